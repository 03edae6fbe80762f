// Original file: protos/peercas/p2p/v1/p2p.proto

import type { SummaryStart as _peercas_p2p_v1_SummaryStart, SummaryStart__Output as _peercas_p2p_v1_SummaryStart__Output } from '../../../peercas/p2p/v1/SummaryStart.js';
import type { SummaryPart as _peercas_p2p_v1_SummaryPart, SummaryPart__Output as _peercas_p2p_v1_SummaryPart__Output } from '../../../peercas/p2p/v1/SummaryPart.js';
import type { Delta as _peercas_p2p_v1_Delta, Delta__Output as _peercas_p2p_v1_Delta__Output } from '../../../peercas/p2p/v1/Delta.js';

export interface AvailabilityMessage {
  'summaryStart'?: (_peercas_p2p_v1_SummaryStart | null);
  'summaryPart'?: (_peercas_p2p_v1_SummaryPart | null);
  'delta'?: (_peercas_p2p_v1_Delta | null);
  'kind'?: "summaryStart"|"summaryPart"|"delta";
}

export interface AvailabilityMessage__Output {
  'summaryStart'?: (_peercas_p2p_v1_SummaryStart__Output | null);
  'summaryPart'?: (_peercas_p2p_v1_SummaryPart__Output | null);
  'delta'?: (_peercas_p2p_v1_Delta__Output | null);
  'kind'?: "summaryStart"|"summaryPart"|"delta";
}

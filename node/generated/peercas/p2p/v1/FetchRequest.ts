// Original file: protos/peercas/p2p/v1/p2p.proto

import type { Want as _peercas_p2p_v1_Want, Want__Output as _peercas_p2p_v1_Want__Output } from '../../../peercas/p2p/v1/Want.js';
import type { BodyEncoding as _peercas_p2p_v1_BodyEncoding, BodyEncoding__Output as _peercas_p2p_v1_BodyEncoding__Output } from '../../../peercas/p2p/v1/BodyEncoding.js';

export interface FetchRequest {
  'wants'?: (_peercas_p2p_v1_Want)[];
  'acceptEncodings'?: (_peercas_p2p_v1_BodyEncoding)[];
}

export interface FetchRequest__Output {
  'wants': (_peercas_p2p_v1_Want__Output)[];
  'acceptEncodings': (_peercas_p2p_v1_BodyEncoding__Output)[];
}

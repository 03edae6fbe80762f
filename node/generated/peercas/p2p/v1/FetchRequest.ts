// Original file: protos/peercas/p2p/v1/p2p.proto

import type { Want as _peercas_p2p_v1_Want, Want__Output as _peercas_p2p_v1_Want__Output } from '../../../peercas/p2p/v1/Want.js';

export interface FetchRequest {
  'wants'?: (_peercas_p2p_v1_Want)[];
}

export interface FetchRequest__Output {
  'wants': (_peercas_p2p_v1_Want__Output)[];
}

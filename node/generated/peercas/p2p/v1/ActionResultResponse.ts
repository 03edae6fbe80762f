// Original file: protos/peercas/p2p/v1/p2p.proto

import type { InlineBlob as _peercas_p2p_v1_InlineBlob, InlineBlob__Output as _peercas_p2p_v1_InlineBlob__Output } from '../../../peercas/p2p/v1/InlineBlob.js';

export interface ActionResultResponse {
  'found'?: (boolean);
  'actionResult'?: (Buffer | Uint8Array | string);
  'inlineBlobs'?: (_peercas_p2p_v1_InlineBlob)[];
}

export interface ActionResultResponse__Output {
  'found': (boolean);
  'actionResult': (Buffer);
  'inlineBlobs': (_peercas_p2p_v1_InlineBlob__Output)[];
}

// Original file: protos/peercas/p2p/v1/p2p.proto

import type { InlineBlob as _peercas_p2p_v1_InlineBlob, InlineBlob__Output as _peercas_p2p_v1_InlineBlob__Output } from '../../../peercas/p2p/v1/InlineBlob.js';

export interface NamedResultResponse {
  'found'?: (boolean);
  'value'?: (Buffer | Uint8Array | string);
  'inlineBlobs'?: (_peercas_p2p_v1_InlineBlob)[];
}

export interface NamedResultResponse__Output {
  'found': (boolean);
  'value': (Buffer);
  'inlineBlobs': (_peercas_p2p_v1_InlineBlob__Output)[];
}

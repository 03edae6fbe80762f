// Original file: protos/peercas/p2p/v1/p2p.proto

import type { BlobRef as _peercas_p2p_v1_BlobRef, BlobRef__Output as _peercas_p2p_v1_BlobRef__Output } from '../../../peercas/p2p/v1/BlobRef.js';

export interface InlineBlob {
  'blob'?: (_peercas_p2p_v1_BlobRef | null);
  'data'?: (Buffer | Uint8Array | string);
}

export interface InlineBlob__Output {
  'blob': (_peercas_p2p_v1_BlobRef__Output | null);
  'data': (Buffer);
}

// Original file: protos/peercas/p2p/v1/p2p.proto

import type { BlobRef as _peercas_p2p_v1_BlobRef, BlobRef__Output as _peercas_p2p_v1_BlobRef__Output } from '../../../peercas/p2p/v1/BlobRef.js';

export interface PieceMapRequest {
  'blob'?: (_peercas_p2p_v1_BlobRef | null);
  'wantHashes'?: (boolean);
  'subscribe'?: (boolean);
}

export interface PieceMapRequest__Output {
  'blob': (_peercas_p2p_v1_BlobRef__Output | null);
  'wantHashes': (boolean);
  'subscribe': (boolean);
}

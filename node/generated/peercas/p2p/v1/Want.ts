// Original file: protos/peercas/p2p/v1/p2p.proto

import type { BlobRef as _peercas_p2p_v1_BlobRef, BlobRef__Output as _peercas_p2p_v1_BlobRef__Output } from '../../../peercas/p2p/v1/BlobRef.js';
import type { Long } from '@grpc/proto-loader';

export interface Want {
  'blob'?: (_peercas_p2p_v1_BlobRef | null);
  'offset'?: (number | string | Long);
  'length'?: (number | string | Long);
}

export interface Want__Output {
  'blob': (_peercas_p2p_v1_BlobRef__Output | null);
  'offset': (number);
  'length': (number);
}

// Original file: protos/peercas/p2p/v1/p2p.proto

import type { BlobRef as _peercas_p2p_v1_BlobRef, BlobRef__Output as _peercas_p2p_v1_BlobRef__Output } from '../../../peercas/p2p/v1/BlobRef.js';
import type { Long } from '@grpc/proto-loader';

export interface Delta {
  'generation'?: (number | string | Long);
  'added'?: (_peercas_p2p_v1_BlobRef)[];
}

export interface Delta__Output {
  'generation': (number);
  'added': (_peercas_p2p_v1_BlobRef__Output)[];
}

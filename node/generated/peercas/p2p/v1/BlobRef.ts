// Original file: protos/peercas/p2p/v1/p2p.proto

import type { Long } from '@grpc/proto-loader';

export interface BlobRef {
  'cid'?: (Buffer | Uint8Array | string);
  'size'?: (number | string | Long);
}

export interface BlobRef__Output {
  'cid': (Buffer);
  'size': (number);
}

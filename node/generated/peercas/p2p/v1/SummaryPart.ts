// Original file: protos/peercas/p2p/v1/p2p.proto

import type { Long } from '@grpc/proto-loader';

export interface SummaryPart {
  'generation'?: (number | string | Long);
  'offset'?: (number | string | Long);
  'data'?: (Buffer | Uint8Array | string);
}

export interface SummaryPart__Output {
  'generation': (number);
  'offset': (number);
  'data': (Buffer);
}

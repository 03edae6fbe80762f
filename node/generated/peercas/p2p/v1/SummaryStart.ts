// Original file: protos/peercas/p2p/v1/p2p.proto

import type { Long } from '@grpc/proto-loader';

export interface SummaryStart {
  'version'?: (number);
  'generation'?: (number | string | Long);
  'bits'?: (number | string | Long);
  'hashes'?: (number);
  'blobCount'?: (number | string | Long);
}

export interface SummaryStart__Output {
  'version': (number);
  'generation': (number);
  'bits': (number);
  'hashes': (number);
  'blobCount': (number);
}

// Original file: protos/peercas/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface RunGcResponse {
  'evictedBlobs'?: (number | string | Long);
  'evictedBytes'?: (number | string | Long);
  'totalBytesAfter'?: (number | string | Long);
}

export interface RunGcResponse__Output {
  'evictedBlobs': (number);
  'evictedBytes': (number);
  'totalBytesAfter': (number);
}

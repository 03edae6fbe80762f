// Original file: protos/peercas/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface RunGcRequest {
  'targetBytes'?: (number | string | Long);
}

export interface RunGcRequest__Output {
  'targetBytes': (number);
}

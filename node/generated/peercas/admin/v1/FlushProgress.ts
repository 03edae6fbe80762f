// Original file: protos/peercas/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface FlushProgress {
  'queueLength'?: (number | string | Long);
  'queueBytes'?: (number | string | Long);
  'uploadedBlobs'?: (number | string | Long);
  'uploadedBytes'?: (number | string | Long);
  'done'?: (boolean);
  'lastError'?: (string);
  'online'?: (boolean);
}

export interface FlushProgress__Output {
  'queueLength': (number);
  'queueBytes': (number);
  'uploadedBlobs': (number);
  'uploadedBytes': (number);
  'done': (boolean);
  'lastError': (string);
  'online': (boolean);
}

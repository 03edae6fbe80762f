// Original file: protos/peercas/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface RemoteStatus {
  'endpoint'?: (string);
  'configured'?: (boolean);
  'online'?: (boolean);
  'queueLength'?: (number | string | Long);
  'queueBytes'?: (number | string | Long);
  'lastError'?: (string);
  'uploadedBlobs'?: (number | string | Long);
  'uploadedBytes'?: (number | string | Long);
}

export interface RemoteStatus__Output {
  'endpoint': (string);
  'configured': (boolean);
  'online': (boolean);
  'queueLength': (number);
  'queueBytes': (number);
  'lastError': (string);
  'uploadedBlobs': (number);
  'uploadedBytes': (number);
}

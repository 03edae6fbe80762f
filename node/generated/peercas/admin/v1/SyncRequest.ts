// Original file: protos/peercas/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface SyncRequest {
  'peer'?: (string);
  'sinceSeconds'?: (number | string | Long);
  'acOnly'?: (boolean);
}

export interface SyncRequest__Output {
  'peer': (string);
  'sinceSeconds': (number);
  'acOnly': (boolean);
}

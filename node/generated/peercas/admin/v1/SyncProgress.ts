// Original file: protos/peercas/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface SyncProgress {
  'phase'?: (string);
  'totalItems'?: (number | string | Long);
  'doneItems'?: (number | string | Long);
  'totalBytes'?: (number | string | Long);
  'doneBytes'?: (number | string | Long);
  'skippedItems'?: (number | string | Long);
  'failedItems'?: (number | string | Long);
  'done'?: (boolean);
  'message'?: (string);
}

export interface SyncProgress__Output {
  'phase': (string);
  'totalItems': (number);
  'doneItems': (number);
  'totalBytes': (number);
  'doneBytes': (number);
  'skippedItems': (number);
  'failedItems': (number);
  'done': (boolean);
  'message': (string);
}

// Original file: protos/peercas/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface StoreStatus {
  'blobCount'?: (number | string | Long);
  'totalBytes'?: (number | string | Long);
  'quotaBytes'?: (number | string | Long);
  'highWatermark'?: (number | string);
  'lowWatermark'?: (number | string);
  'inlineBlobCount'?: (number | string | Long);
  'fileBlobCount'?: (number | string | Long);
  'actionResultCount'?: (number | string | Long);
  'assetCount'?: (number | string | Long);
  'refCount'?: (number | string | Long);
}

export interface StoreStatus__Output {
  'blobCount': (number);
  'totalBytes': (number);
  'quotaBytes': (number);
  'highWatermark': (number);
  'lowWatermark': (number);
  'inlineBlobCount': (number);
  'fileBlobCount': (number);
  'actionResultCount': (number);
  'assetCount': (number);
  'refCount': (number);
}

// Original file: protos/peercas/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface TierCounters {
  'localHits'?: (number | string | Long);
  'peerHits'?: (number | string | Long);
  'remoteHits'?: (number | string | Long);
  'misses'?: (number | string | Long);
  'actionCacheHits'?: (number | string | Long);
  'actionCacheMisses'?: (number | string | Long);
  'assetHits'?: (number | string | Long);
  'assetMisses'?: (number | string | Long);
  'refHits'?: (number | string | Long);
  'refMisses'?: (number | string | Long);
}

export interface TierCounters__Output {
  'localHits': (number);
  'peerHits': (number);
  'remoteHits': (number);
  'misses': (number);
  'actionCacheHits': (number);
  'actionCacheMisses': (number);
  'assetHits': (number);
  'assetMisses': (number);
  'refHits': (number);
  'refMisses': (number);
}

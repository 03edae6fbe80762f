// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type { Long } from '@grpc/proto-loader';

export interface RepMaxCdcParams {
  'minChunkSizeBytes'?: (number | string | Long);
  'horizonSizeBytes'?: (number | string | Long);
}

export interface RepMaxCdcParams__Output {
  'minChunkSizeBytes': (number);
  'horizonSizeBytes': (number);
}

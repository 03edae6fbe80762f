// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type { Long } from '@grpc/proto-loader';

export interface FastCdc2020Params {
  'avgChunkSizeBytes'?: (number | string | Long);
  'seed'?: (number);
}

export interface FastCdc2020Params__Output {
  'avgChunkSizeBytes': (number);
  'seed': (number);
}

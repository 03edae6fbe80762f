// Original file: protos/peercas/names/v1/names.proto

import type { Qualifier as _build_bazel_remote_asset_v1_Qualifier, Qualifier__Output as _build_bazel_remote_asset_v1_Qualifier__Output } from '../../../build/bazel/remote/asset/v1/Qualifier.js';
import type { Digest as _build_bazel_remote_execution_v2_Digest, Digest__Output as _build_bazel_remote_execution_v2_Digest__Output } from '../../../build/bazel/remote/execution/v2/Digest.js';
import type { Long } from '@grpc/proto-loader';

export interface AssetMapping {
  'uri'?: (string);
  'qualifiers'?: (_build_bazel_remote_asset_v1_Qualifier)[];
  'blobDigest'?: (_build_bazel_remote_execution_v2_Digest | null);
  'rootDirectoryDigest'?: (_build_bazel_remote_execution_v2_Digest | null);
  'expireAtMs'?: (number | string | Long);
  'selfVerifying'?: (boolean);
  'createdAtMs'?: (number | string | Long);
}

export interface AssetMapping__Output {
  'uri': (string);
  'qualifiers': (_build_bazel_remote_asset_v1_Qualifier__Output)[];
  'blobDigest': (_build_bazel_remote_execution_v2_Digest__Output | null);
  'rootDirectoryDigest': (_build_bazel_remote_execution_v2_Digest__Output | null);
  'expireAtMs': (number);
  'selfVerifying': (boolean);
  'createdAtMs': (number);
}

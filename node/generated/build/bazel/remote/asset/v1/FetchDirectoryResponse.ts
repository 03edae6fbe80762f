// Original file: protos/build/bazel/remote/asset/v1/remote_asset.proto

import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from '../../../../../google/rpc/Status.js';
import type { Qualifier as _build_bazel_remote_asset_v1_Qualifier, Qualifier__Output as _build_bazel_remote_asset_v1_Qualifier__Output } from '../../../../../build/bazel/remote/asset/v1/Qualifier.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../../../../google/protobuf/Timestamp.js';
import type { Digest as _build_bazel_remote_execution_v2_Digest, Digest__Output as _build_bazel_remote_execution_v2_Digest__Output } from '../../../../../build/bazel/remote/execution/v2/Digest.js';
import type { _build_bazel_remote_execution_v2_DigestFunction_Value, _build_bazel_remote_execution_v2_DigestFunction_Value__Output } from '../../../../../build/bazel/remote/execution/v2/DigestFunction.js';

export interface FetchDirectoryResponse {
  'status'?: (_google_rpc_Status | null);
  'uri'?: (string);
  'qualifiers'?: (_build_bazel_remote_asset_v1_Qualifier)[];
  'expiresAt'?: (_google_protobuf_Timestamp | null);
  'rootDirectoryDigest'?: (_build_bazel_remote_execution_v2_Digest | null);
  'digestFunction'?: (_build_bazel_remote_execution_v2_DigestFunction_Value);
}

export interface FetchDirectoryResponse__Output {
  'status': (_google_rpc_Status__Output | null);
  'uri': (string);
  'qualifiers': (_build_bazel_remote_asset_v1_Qualifier__Output)[];
  'expiresAt': (_google_protobuf_Timestamp__Output | null);
  'rootDirectoryDigest': (_build_bazel_remote_execution_v2_Digest__Output | null);
  'digestFunction': (_build_bazel_remote_execution_v2_DigestFunction_Value__Output);
}

// Original file: protos/build/bazel/remote/asset/v1/remote_asset.proto

import type { Qualifier as _build_bazel_remote_asset_v1_Qualifier, Qualifier__Output as _build_bazel_remote_asset_v1_Qualifier__Output } from '../../../../../build/bazel/remote/asset/v1/Qualifier.js';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../../../../google/protobuf/Timestamp.js';
import type { Digest as _build_bazel_remote_execution_v2_Digest, Digest__Output as _build_bazel_remote_execution_v2_Digest__Output } from '../../../../../build/bazel/remote/execution/v2/Digest.js';
import type { _build_bazel_remote_execution_v2_DigestFunction_Value, _build_bazel_remote_execution_v2_DigestFunction_Value__Output } from '../../../../../build/bazel/remote/execution/v2/DigestFunction.js';

export interface PushBlobRequest {
  'instanceName'?: (string);
  'uris'?: (string)[];
  'qualifiers'?: (_build_bazel_remote_asset_v1_Qualifier)[];
  'expireAt'?: (_google_protobuf_Timestamp | null);
  'blobDigest'?: (_build_bazel_remote_execution_v2_Digest | null);
  'referencesBlobs'?: (_build_bazel_remote_execution_v2_Digest)[];
  'referencesDirectories'?: (_build_bazel_remote_execution_v2_Digest)[];
  'digestFunction'?: (_build_bazel_remote_execution_v2_DigestFunction_Value);
}

export interface PushBlobRequest__Output {
  'instanceName': (string);
  'uris': (string)[];
  'qualifiers': (_build_bazel_remote_asset_v1_Qualifier__Output)[];
  'expireAt': (_google_protobuf_Timestamp__Output | null);
  'blobDigest': (_build_bazel_remote_execution_v2_Digest__Output | null);
  'referencesBlobs': (_build_bazel_remote_execution_v2_Digest__Output)[];
  'referencesDirectories': (_build_bazel_remote_execution_v2_Digest__Output)[];
  'digestFunction': (_build_bazel_remote_execution_v2_DigestFunction_Value__Output);
}

// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type { Digest as _build_bazel_remote_execution_v2_Digest, Digest__Output as _build_bazel_remote_execution_v2_Digest__Output } from '../../../../../build/bazel/remote/execution/v2/Digest.js';
import type { _build_bazel_remote_execution_v2_DigestFunction_Value, _build_bazel_remote_execution_v2_DigestFunction_Value__Output } from '../../../../../build/bazel/remote/execution/v2/DigestFunction.js';

export interface GetTreeRequest {
  'instanceName'?: (string);
  'rootDigest'?: (_build_bazel_remote_execution_v2_Digest | null);
  'pageSize'?: (number);
  'pageToken'?: (string);
  'digestFunction'?: (_build_bazel_remote_execution_v2_DigestFunction_Value);
}

export interface GetTreeRequest__Output {
  'instanceName': (string);
  'rootDigest': (_build_bazel_remote_execution_v2_Digest__Output | null);
  'pageSize': (number);
  'pageToken': (string);
  'digestFunction': (_build_bazel_remote_execution_v2_DigestFunction_Value__Output);
}

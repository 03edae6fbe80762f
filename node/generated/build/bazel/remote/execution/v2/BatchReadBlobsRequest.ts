// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type { Digest as _build_bazel_remote_execution_v2_Digest, Digest__Output as _build_bazel_remote_execution_v2_Digest__Output } from '../../../../../build/bazel/remote/execution/v2/Digest.js';
import type { _build_bazel_remote_execution_v2_Compressor_Value, _build_bazel_remote_execution_v2_Compressor_Value__Output } from '../../../../../build/bazel/remote/execution/v2/Compressor.js';
import type { _build_bazel_remote_execution_v2_DigestFunction_Value, _build_bazel_remote_execution_v2_DigestFunction_Value__Output } from '../../../../../build/bazel/remote/execution/v2/DigestFunction.js';

export interface BatchReadBlobsRequest {
  'instanceName'?: (string);
  'digests'?: (_build_bazel_remote_execution_v2_Digest)[];
  'acceptableCompressors'?: (_build_bazel_remote_execution_v2_Compressor_Value)[];
  'digestFunction'?: (_build_bazel_remote_execution_v2_DigestFunction_Value);
}

export interface BatchReadBlobsRequest__Output {
  'instanceName': (string);
  'digests': (_build_bazel_remote_execution_v2_Digest__Output)[];
  'acceptableCompressors': (_build_bazel_remote_execution_v2_Compressor_Value__Output)[];
  'digestFunction': (_build_bazel_remote_execution_v2_DigestFunction_Value__Output);
}

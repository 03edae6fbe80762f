// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type { _build_bazel_remote_execution_v2_ExecutionStage_Value, _build_bazel_remote_execution_v2_ExecutionStage_Value__Output } from '../../../../../build/bazel/remote/execution/v2/ExecutionStage.js';
import type { Digest as _build_bazel_remote_execution_v2_Digest, Digest__Output as _build_bazel_remote_execution_v2_Digest__Output } from '../../../../../build/bazel/remote/execution/v2/Digest.js';
import type { ExecutedActionMetadata as _build_bazel_remote_execution_v2_ExecutedActionMetadata, ExecutedActionMetadata__Output as _build_bazel_remote_execution_v2_ExecutedActionMetadata__Output } from '../../../../../build/bazel/remote/execution/v2/ExecutedActionMetadata.js';
import type { _build_bazel_remote_execution_v2_DigestFunction_Value, _build_bazel_remote_execution_v2_DigestFunction_Value__Output } from '../../../../../build/bazel/remote/execution/v2/DigestFunction.js';

export interface ExecuteOperationMetadata {
  'stage'?: (_build_bazel_remote_execution_v2_ExecutionStage_Value);
  'actionDigest'?: (_build_bazel_remote_execution_v2_Digest | null);
  'stdoutStreamName'?: (string);
  'stderrStreamName'?: (string);
  'partialExecutionMetadata'?: (_build_bazel_remote_execution_v2_ExecutedActionMetadata | null);
  'digestFunction'?: (_build_bazel_remote_execution_v2_DigestFunction_Value);
}

export interface ExecuteOperationMetadata__Output {
  'stage': (_build_bazel_remote_execution_v2_ExecutionStage_Value__Output);
  'actionDigest': (_build_bazel_remote_execution_v2_Digest__Output | null);
  'stdoutStreamName': (string);
  'stderrStreamName': (string);
  'partialExecutionMetadata': (_build_bazel_remote_execution_v2_ExecutedActionMetadata__Output | null);
  'digestFunction': (_build_bazel_remote_execution_v2_DigestFunction_Value__Output);
}

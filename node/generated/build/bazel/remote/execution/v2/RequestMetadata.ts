// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type { ToolDetails as _build_bazel_remote_execution_v2_ToolDetails, ToolDetails__Output as _build_bazel_remote_execution_v2_ToolDetails__Output } from '../../../../../build/bazel/remote/execution/v2/ToolDetails.js';

export interface RequestMetadata {
  'toolDetails'?: (_build_bazel_remote_execution_v2_ToolDetails | null);
  'actionId'?: (string);
  'toolInvocationId'?: (string);
  'correlatedInvocationsId'?: (string);
  'actionMnemonic'?: (string);
  'targetId'?: (string);
  'configurationId'?: (string);
}

export interface RequestMetadata__Output {
  'toolDetails': (_build_bazel_remote_execution_v2_ToolDetails__Output | null);
  'actionId': (string);
  'toolInvocationId': (string);
  'correlatedInvocationsId': (string);
  'actionMnemonic': (string);
  'targetId': (string);
  'configurationId': (string);
}

// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type { NodeProperties as _build_bazel_remote_execution_v2_NodeProperties, NodeProperties__Output as _build_bazel_remote_execution_v2_NodeProperties__Output } from '../../../../../build/bazel/remote/execution/v2/NodeProperties.js';

export interface SymlinkNode {
  'name'?: (string);
  'target'?: (string);
  'nodeProperties'?: (_build_bazel_remote_execution_v2_NodeProperties | null);
}

export interface SymlinkNode__Output {
  'name': (string);
  'target': (string);
  'nodeProperties': (_build_bazel_remote_execution_v2_NodeProperties__Output | null);
}

// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto


export interface _build_bazel_remote_execution_v2_PriorityCapabilities_PriorityRange {
  'minPriority'?: (number);
  'maxPriority'?: (number);
}

export interface _build_bazel_remote_execution_v2_PriorityCapabilities_PriorityRange__Output {
  'minPriority': (number);
  'maxPriority': (number);
}

export interface PriorityCapabilities {
  'priorities'?: (_build_bazel_remote_execution_v2_PriorityCapabilities_PriorityRange)[];
}

export interface PriorityCapabilities__Output {
  'priorities': (_build_bazel_remote_execution_v2_PriorityCapabilities_PriorityRange__Output)[];
}

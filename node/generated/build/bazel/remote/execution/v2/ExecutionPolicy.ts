// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto


export interface ExecutionPolicy {
  'priority'?: (number);
}

export interface ExecutionPolicy__Output {
  'priority': (number);
}

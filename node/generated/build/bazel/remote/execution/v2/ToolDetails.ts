// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto


export interface ToolDetails {
  'toolName'?: (string);
  'toolVersion'?: (string);
}

export interface ToolDetails__Output {
  'toolName': (string);
  'toolVersion': (string);
}

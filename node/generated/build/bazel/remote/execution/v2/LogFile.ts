// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type { Digest as _build_bazel_remote_execution_v2_Digest, Digest__Output as _build_bazel_remote_execution_v2_Digest__Output } from '../../../../../build/bazel/remote/execution/v2/Digest.js';

export interface LogFile {
  'digest'?: (_build_bazel_remote_execution_v2_Digest | null);
  'humanReadable'?: (boolean);
}

export interface LogFile__Output {
  'digest': (_build_bazel_remote_execution_v2_Digest__Output | null);
  'humanReadable': (boolean);
}

// Original file: protos/buildstream/v2/buildstream.proto

import type { Digest as _build_bazel_remote_execution_v2_Digest, Digest__Output as _build_bazel_remote_execution_v2_Digest__Output } from '../../build/bazel/remote/execution/v2/Digest.js';

export interface GetReferenceResponse {
  'digest'?: (_build_bazel_remote_execution_v2_Digest | null);
}

export interface GetReferenceResponse__Output {
  'digest': (_build_bazel_remote_execution_v2_Digest__Output | null);
}

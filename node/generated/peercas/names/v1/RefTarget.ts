// Original file: protos/peercas/names/v1/names.proto

import type { Digest as _build_bazel_remote_execution_v2_Digest, Digest__Output as _build_bazel_remote_execution_v2_Digest__Output } from '../../../build/bazel/remote/execution/v2/Digest.js';

export interface RefTarget {
  'rootDirectoryDigest'?: (_build_bazel_remote_execution_v2_Digest | null);
}

export interface RefTarget__Output {
  'rootDirectoryDigest': (_build_bazel_remote_execution_v2_Digest__Output | null);
}

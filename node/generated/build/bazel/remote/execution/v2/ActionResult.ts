// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type { OutputFile as _build_bazel_remote_execution_v2_OutputFile, OutputFile__Output as _build_bazel_remote_execution_v2_OutputFile__Output } from '../../../../../build/bazel/remote/execution/v2/OutputFile.js';
import type { OutputDirectory as _build_bazel_remote_execution_v2_OutputDirectory, OutputDirectory__Output as _build_bazel_remote_execution_v2_OutputDirectory__Output } from '../../../../../build/bazel/remote/execution/v2/OutputDirectory.js';
import type { Digest as _build_bazel_remote_execution_v2_Digest, Digest__Output as _build_bazel_remote_execution_v2_Digest__Output } from '../../../../../build/bazel/remote/execution/v2/Digest.js';
import type { ExecutedActionMetadata as _build_bazel_remote_execution_v2_ExecutedActionMetadata, ExecutedActionMetadata__Output as _build_bazel_remote_execution_v2_ExecutedActionMetadata__Output } from '../../../../../build/bazel/remote/execution/v2/ExecutedActionMetadata.js';
import type { OutputSymlink as _build_bazel_remote_execution_v2_OutputSymlink, OutputSymlink__Output as _build_bazel_remote_execution_v2_OutputSymlink__Output } from '../../../../../build/bazel/remote/execution/v2/OutputSymlink.js';

export interface ActionResult {
  'outputFiles'?: (_build_bazel_remote_execution_v2_OutputFile)[];
  'outputDirectories'?: (_build_bazel_remote_execution_v2_OutputDirectory)[];
  'exitCode'?: (number);
  'stdoutRaw'?: (Buffer | Uint8Array | string);
  'stdoutDigest'?: (_build_bazel_remote_execution_v2_Digest | null);
  'stderrRaw'?: (Buffer | Uint8Array | string);
  'stderrDigest'?: (_build_bazel_remote_execution_v2_Digest | null);
  'executionMetadata'?: (_build_bazel_remote_execution_v2_ExecutedActionMetadata | null);
  'outputFileSymlinks'?: (_build_bazel_remote_execution_v2_OutputSymlink)[];
  'outputDirectorySymlinks'?: (_build_bazel_remote_execution_v2_OutputSymlink)[];
  'outputSymlinks'?: (_build_bazel_remote_execution_v2_OutputSymlink)[];
}

export interface ActionResult__Output {
  'outputFiles': (_build_bazel_remote_execution_v2_OutputFile__Output)[];
  'outputDirectories': (_build_bazel_remote_execution_v2_OutputDirectory__Output)[];
  'exitCode': (number);
  'stdoutRaw': (Buffer);
  'stdoutDigest': (_build_bazel_remote_execution_v2_Digest__Output | null);
  'stderrRaw': (Buffer);
  'stderrDigest': (_build_bazel_remote_execution_v2_Digest__Output | null);
  'executionMetadata': (_build_bazel_remote_execution_v2_ExecutedActionMetadata__Output | null);
  'outputFileSymlinks': (_build_bazel_remote_execution_v2_OutputSymlink__Output)[];
  'outputDirectorySymlinks': (_build_bazel_remote_execution_v2_OutputSymlink__Output)[];
  'outputSymlinks': (_build_bazel_remote_execution_v2_OutputSymlink__Output)[];
}

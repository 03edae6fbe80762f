// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type { FileNode as _build_bazel_remote_execution_v2_FileNode, FileNode__Output as _build_bazel_remote_execution_v2_FileNode__Output } from '../../../../../build/bazel/remote/execution/v2/FileNode.js';
import type { DirectoryNode as _build_bazel_remote_execution_v2_DirectoryNode, DirectoryNode__Output as _build_bazel_remote_execution_v2_DirectoryNode__Output } from '../../../../../build/bazel/remote/execution/v2/DirectoryNode.js';
import type { SymlinkNode as _build_bazel_remote_execution_v2_SymlinkNode, SymlinkNode__Output as _build_bazel_remote_execution_v2_SymlinkNode__Output } from '../../../../../build/bazel/remote/execution/v2/SymlinkNode.js';
import type { NodeProperties as _build_bazel_remote_execution_v2_NodeProperties, NodeProperties__Output as _build_bazel_remote_execution_v2_NodeProperties__Output } from '../../../../../build/bazel/remote/execution/v2/NodeProperties.js';

export interface Directory {
  'files'?: (_build_bazel_remote_execution_v2_FileNode)[];
  'directories'?: (_build_bazel_remote_execution_v2_DirectoryNode)[];
  'symlinks'?: (_build_bazel_remote_execution_v2_SymlinkNode)[];
  'nodeProperties'?: (_build_bazel_remote_execution_v2_NodeProperties | null);
}

export interface Directory__Output {
  'files': (_build_bazel_remote_execution_v2_FileNode__Output)[];
  'directories': (_build_bazel_remote_execution_v2_DirectoryNode__Output)[];
  'symlinks': (_build_bazel_remote_execution_v2_SymlinkNode__Output)[];
  'nodeProperties': (_build_bazel_remote_execution_v2_NodeProperties__Output | null);
}

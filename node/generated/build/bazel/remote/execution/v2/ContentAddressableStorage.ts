// Original file: protos/build/bazel/remote/execution/v2/remote_execution.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BatchReadBlobsRequest as _build_bazel_remote_execution_v2_BatchReadBlobsRequest, BatchReadBlobsRequest__Output as _build_bazel_remote_execution_v2_BatchReadBlobsRequest__Output } from '../../../../../build/bazel/remote/execution/v2/BatchReadBlobsRequest.js';
import type { BatchReadBlobsResponse as _build_bazel_remote_execution_v2_BatchReadBlobsResponse, BatchReadBlobsResponse__Output as _build_bazel_remote_execution_v2_BatchReadBlobsResponse__Output } from '../../../../../build/bazel/remote/execution/v2/BatchReadBlobsResponse.js';
import type { BatchUpdateBlobsRequest as _build_bazel_remote_execution_v2_BatchUpdateBlobsRequest, BatchUpdateBlobsRequest__Output as _build_bazel_remote_execution_v2_BatchUpdateBlobsRequest__Output } from '../../../../../build/bazel/remote/execution/v2/BatchUpdateBlobsRequest.js';
import type { BatchUpdateBlobsResponse as _build_bazel_remote_execution_v2_BatchUpdateBlobsResponse, BatchUpdateBlobsResponse__Output as _build_bazel_remote_execution_v2_BatchUpdateBlobsResponse__Output } from '../../../../../build/bazel/remote/execution/v2/BatchUpdateBlobsResponse.js';
import type { FindMissingBlobsRequest as _build_bazel_remote_execution_v2_FindMissingBlobsRequest, FindMissingBlobsRequest__Output as _build_bazel_remote_execution_v2_FindMissingBlobsRequest__Output } from '../../../../../build/bazel/remote/execution/v2/FindMissingBlobsRequest.js';
import type { FindMissingBlobsResponse as _build_bazel_remote_execution_v2_FindMissingBlobsResponse, FindMissingBlobsResponse__Output as _build_bazel_remote_execution_v2_FindMissingBlobsResponse__Output } from '../../../../../build/bazel/remote/execution/v2/FindMissingBlobsResponse.js';
import type { GetTreeRequest as _build_bazel_remote_execution_v2_GetTreeRequest, GetTreeRequest__Output as _build_bazel_remote_execution_v2_GetTreeRequest__Output } from '../../../../../build/bazel/remote/execution/v2/GetTreeRequest.js';
import type { GetTreeResponse as _build_bazel_remote_execution_v2_GetTreeResponse, GetTreeResponse__Output as _build_bazel_remote_execution_v2_GetTreeResponse__Output } from '../../../../../build/bazel/remote/execution/v2/GetTreeResponse.js';
import type { SpliceBlobRequest as _build_bazel_remote_execution_v2_SpliceBlobRequest, SpliceBlobRequest__Output as _build_bazel_remote_execution_v2_SpliceBlobRequest__Output } from '../../../../../build/bazel/remote/execution/v2/SpliceBlobRequest.js';
import type { SpliceBlobResponse as _build_bazel_remote_execution_v2_SpliceBlobResponse, SpliceBlobResponse__Output as _build_bazel_remote_execution_v2_SpliceBlobResponse__Output } from '../../../../../build/bazel/remote/execution/v2/SpliceBlobResponse.js';
import type { SplitBlobRequest as _build_bazel_remote_execution_v2_SplitBlobRequest, SplitBlobRequest__Output as _build_bazel_remote_execution_v2_SplitBlobRequest__Output } from '../../../../../build/bazel/remote/execution/v2/SplitBlobRequest.js';
import type { SplitBlobResponse as _build_bazel_remote_execution_v2_SplitBlobResponse, SplitBlobResponse__Output as _build_bazel_remote_execution_v2_SplitBlobResponse__Output } from '../../../../../build/bazel/remote/execution/v2/SplitBlobResponse.js';

export interface ContentAddressableStorageClient extends grpc.Client {
  BatchReadBlobs(argument: _build_bazel_remote_execution_v2_BatchReadBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchReadBlobsResponse__Output>): grpc.ClientUnaryCall;
  BatchReadBlobs(argument: _build_bazel_remote_execution_v2_BatchReadBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchReadBlobsResponse__Output>): grpc.ClientUnaryCall;
  BatchReadBlobs(argument: _build_bazel_remote_execution_v2_BatchReadBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchReadBlobsResponse__Output>): grpc.ClientUnaryCall;
  BatchReadBlobs(argument: _build_bazel_remote_execution_v2_BatchReadBlobsRequest, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchReadBlobsResponse__Output>): grpc.ClientUnaryCall;
  batchReadBlobs(argument: _build_bazel_remote_execution_v2_BatchReadBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchReadBlobsResponse__Output>): grpc.ClientUnaryCall;
  batchReadBlobs(argument: _build_bazel_remote_execution_v2_BatchReadBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchReadBlobsResponse__Output>): grpc.ClientUnaryCall;
  batchReadBlobs(argument: _build_bazel_remote_execution_v2_BatchReadBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchReadBlobsResponse__Output>): grpc.ClientUnaryCall;
  batchReadBlobs(argument: _build_bazel_remote_execution_v2_BatchReadBlobsRequest, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchReadBlobsResponse__Output>): grpc.ClientUnaryCall;
  
  BatchUpdateBlobs(argument: _build_bazel_remote_execution_v2_BatchUpdateBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchUpdateBlobsResponse__Output>): grpc.ClientUnaryCall;
  BatchUpdateBlobs(argument: _build_bazel_remote_execution_v2_BatchUpdateBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchUpdateBlobsResponse__Output>): grpc.ClientUnaryCall;
  BatchUpdateBlobs(argument: _build_bazel_remote_execution_v2_BatchUpdateBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchUpdateBlobsResponse__Output>): grpc.ClientUnaryCall;
  BatchUpdateBlobs(argument: _build_bazel_remote_execution_v2_BatchUpdateBlobsRequest, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchUpdateBlobsResponse__Output>): grpc.ClientUnaryCall;
  batchUpdateBlobs(argument: _build_bazel_remote_execution_v2_BatchUpdateBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchUpdateBlobsResponse__Output>): grpc.ClientUnaryCall;
  batchUpdateBlobs(argument: _build_bazel_remote_execution_v2_BatchUpdateBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchUpdateBlobsResponse__Output>): grpc.ClientUnaryCall;
  batchUpdateBlobs(argument: _build_bazel_remote_execution_v2_BatchUpdateBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchUpdateBlobsResponse__Output>): grpc.ClientUnaryCall;
  batchUpdateBlobs(argument: _build_bazel_remote_execution_v2_BatchUpdateBlobsRequest, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_BatchUpdateBlobsResponse__Output>): grpc.ClientUnaryCall;
  
  FindMissingBlobs(argument: _build_bazel_remote_execution_v2_FindMissingBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_FindMissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  FindMissingBlobs(argument: _build_bazel_remote_execution_v2_FindMissingBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_FindMissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  FindMissingBlobs(argument: _build_bazel_remote_execution_v2_FindMissingBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_FindMissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  FindMissingBlobs(argument: _build_bazel_remote_execution_v2_FindMissingBlobsRequest, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_FindMissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  findMissingBlobs(argument: _build_bazel_remote_execution_v2_FindMissingBlobsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_FindMissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  findMissingBlobs(argument: _build_bazel_remote_execution_v2_FindMissingBlobsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_FindMissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  findMissingBlobs(argument: _build_bazel_remote_execution_v2_FindMissingBlobsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_FindMissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  findMissingBlobs(argument: _build_bazel_remote_execution_v2_FindMissingBlobsRequest, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_FindMissingBlobsResponse__Output>): grpc.ClientUnaryCall;
  
  GetTree(argument: _build_bazel_remote_execution_v2_GetTreeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_build_bazel_remote_execution_v2_GetTreeResponse__Output>;
  GetTree(argument: _build_bazel_remote_execution_v2_GetTreeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_build_bazel_remote_execution_v2_GetTreeResponse__Output>;
  getTree(argument: _build_bazel_remote_execution_v2_GetTreeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_build_bazel_remote_execution_v2_GetTreeResponse__Output>;
  getTree(argument: _build_bazel_remote_execution_v2_GetTreeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_build_bazel_remote_execution_v2_GetTreeResponse__Output>;
  
  SpliceBlob(argument: _build_bazel_remote_execution_v2_SpliceBlobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SpliceBlobResponse__Output>): grpc.ClientUnaryCall;
  SpliceBlob(argument: _build_bazel_remote_execution_v2_SpliceBlobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SpliceBlobResponse__Output>): grpc.ClientUnaryCall;
  SpliceBlob(argument: _build_bazel_remote_execution_v2_SpliceBlobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SpliceBlobResponse__Output>): grpc.ClientUnaryCall;
  SpliceBlob(argument: _build_bazel_remote_execution_v2_SpliceBlobRequest, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SpliceBlobResponse__Output>): grpc.ClientUnaryCall;
  spliceBlob(argument: _build_bazel_remote_execution_v2_SpliceBlobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SpliceBlobResponse__Output>): grpc.ClientUnaryCall;
  spliceBlob(argument: _build_bazel_remote_execution_v2_SpliceBlobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SpliceBlobResponse__Output>): grpc.ClientUnaryCall;
  spliceBlob(argument: _build_bazel_remote_execution_v2_SpliceBlobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SpliceBlobResponse__Output>): grpc.ClientUnaryCall;
  spliceBlob(argument: _build_bazel_remote_execution_v2_SpliceBlobRequest, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SpliceBlobResponse__Output>): grpc.ClientUnaryCall;
  
  SplitBlob(argument: _build_bazel_remote_execution_v2_SplitBlobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SplitBlobResponse__Output>): grpc.ClientUnaryCall;
  SplitBlob(argument: _build_bazel_remote_execution_v2_SplitBlobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SplitBlobResponse__Output>): grpc.ClientUnaryCall;
  SplitBlob(argument: _build_bazel_remote_execution_v2_SplitBlobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SplitBlobResponse__Output>): grpc.ClientUnaryCall;
  SplitBlob(argument: _build_bazel_remote_execution_v2_SplitBlobRequest, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SplitBlobResponse__Output>): grpc.ClientUnaryCall;
  splitBlob(argument: _build_bazel_remote_execution_v2_SplitBlobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SplitBlobResponse__Output>): grpc.ClientUnaryCall;
  splitBlob(argument: _build_bazel_remote_execution_v2_SplitBlobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SplitBlobResponse__Output>): grpc.ClientUnaryCall;
  splitBlob(argument: _build_bazel_remote_execution_v2_SplitBlobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SplitBlobResponse__Output>): grpc.ClientUnaryCall;
  splitBlob(argument: _build_bazel_remote_execution_v2_SplitBlobRequest, callback: grpc.requestCallback<_build_bazel_remote_execution_v2_SplitBlobResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ContentAddressableStorageHandlers extends grpc.UntypedServiceImplementation {
  BatchReadBlobs: grpc.handleUnaryCall<_build_bazel_remote_execution_v2_BatchReadBlobsRequest__Output, _build_bazel_remote_execution_v2_BatchReadBlobsResponse>;
  
  BatchUpdateBlobs: grpc.handleUnaryCall<_build_bazel_remote_execution_v2_BatchUpdateBlobsRequest__Output, _build_bazel_remote_execution_v2_BatchUpdateBlobsResponse>;
  
  FindMissingBlobs: grpc.handleUnaryCall<_build_bazel_remote_execution_v2_FindMissingBlobsRequest__Output, _build_bazel_remote_execution_v2_FindMissingBlobsResponse>;
  
  GetTree: grpc.handleServerStreamingCall<_build_bazel_remote_execution_v2_GetTreeRequest__Output, _build_bazel_remote_execution_v2_GetTreeResponse>;
  
  SpliceBlob: grpc.handleUnaryCall<_build_bazel_remote_execution_v2_SpliceBlobRequest__Output, _build_bazel_remote_execution_v2_SpliceBlobResponse>;
  
  SplitBlob: grpc.handleUnaryCall<_build_bazel_remote_execution_v2_SplitBlobRequest__Output, _build_bazel_remote_execution_v2_SplitBlobResponse>;
  
}

export interface ContentAddressableStorageDefinition extends grpc.ServiceDefinition {
  BatchReadBlobs: MethodDefinition<_build_bazel_remote_execution_v2_BatchReadBlobsRequest, _build_bazel_remote_execution_v2_BatchReadBlobsResponse, _build_bazel_remote_execution_v2_BatchReadBlobsRequest__Output, _build_bazel_remote_execution_v2_BatchReadBlobsResponse__Output>
  BatchUpdateBlobs: MethodDefinition<_build_bazel_remote_execution_v2_BatchUpdateBlobsRequest, _build_bazel_remote_execution_v2_BatchUpdateBlobsResponse, _build_bazel_remote_execution_v2_BatchUpdateBlobsRequest__Output, _build_bazel_remote_execution_v2_BatchUpdateBlobsResponse__Output>
  FindMissingBlobs: MethodDefinition<_build_bazel_remote_execution_v2_FindMissingBlobsRequest, _build_bazel_remote_execution_v2_FindMissingBlobsResponse, _build_bazel_remote_execution_v2_FindMissingBlobsRequest__Output, _build_bazel_remote_execution_v2_FindMissingBlobsResponse__Output>
  GetTree: MethodDefinition<_build_bazel_remote_execution_v2_GetTreeRequest, _build_bazel_remote_execution_v2_GetTreeResponse, _build_bazel_remote_execution_v2_GetTreeRequest__Output, _build_bazel_remote_execution_v2_GetTreeResponse__Output>
  SpliceBlob: MethodDefinition<_build_bazel_remote_execution_v2_SpliceBlobRequest, _build_bazel_remote_execution_v2_SpliceBlobResponse, _build_bazel_remote_execution_v2_SpliceBlobRequest__Output, _build_bazel_remote_execution_v2_SpliceBlobResponse__Output>
  SplitBlob: MethodDefinition<_build_bazel_remote_execution_v2_SplitBlobRequest, _build_bazel_remote_execution_v2_SplitBlobResponse, _build_bazel_remote_execution_v2_SplitBlobRequest__Output, _build_bazel_remote_execution_v2_SplitBlobResponse__Output>
}

// Original file: protos/build/bazel/remote/asset/v1/remote_asset.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { PushBlobRequest as _build_bazel_remote_asset_v1_PushBlobRequest, PushBlobRequest__Output as _build_bazel_remote_asset_v1_PushBlobRequest__Output } from '../../../../../build/bazel/remote/asset/v1/PushBlobRequest.js';
import type { PushBlobResponse as _build_bazel_remote_asset_v1_PushBlobResponse, PushBlobResponse__Output as _build_bazel_remote_asset_v1_PushBlobResponse__Output } from '../../../../../build/bazel/remote/asset/v1/PushBlobResponse.js';
import type { PushDirectoryRequest as _build_bazel_remote_asset_v1_PushDirectoryRequest, PushDirectoryRequest__Output as _build_bazel_remote_asset_v1_PushDirectoryRequest__Output } from '../../../../../build/bazel/remote/asset/v1/PushDirectoryRequest.js';
import type { PushDirectoryResponse as _build_bazel_remote_asset_v1_PushDirectoryResponse, PushDirectoryResponse__Output as _build_bazel_remote_asset_v1_PushDirectoryResponse__Output } from '../../../../../build/bazel/remote/asset/v1/PushDirectoryResponse.js';

export interface PushClient extends grpc.Client {
  PushBlob(argument: _build_bazel_remote_asset_v1_PushBlobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushBlobResponse__Output>): grpc.ClientUnaryCall;
  PushBlob(argument: _build_bazel_remote_asset_v1_PushBlobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushBlobResponse__Output>): grpc.ClientUnaryCall;
  PushBlob(argument: _build_bazel_remote_asset_v1_PushBlobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushBlobResponse__Output>): grpc.ClientUnaryCall;
  PushBlob(argument: _build_bazel_remote_asset_v1_PushBlobRequest, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushBlobResponse__Output>): grpc.ClientUnaryCall;
  pushBlob(argument: _build_bazel_remote_asset_v1_PushBlobRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushBlobResponse__Output>): grpc.ClientUnaryCall;
  pushBlob(argument: _build_bazel_remote_asset_v1_PushBlobRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushBlobResponse__Output>): grpc.ClientUnaryCall;
  pushBlob(argument: _build_bazel_remote_asset_v1_PushBlobRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushBlobResponse__Output>): grpc.ClientUnaryCall;
  pushBlob(argument: _build_bazel_remote_asset_v1_PushBlobRequest, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushBlobResponse__Output>): grpc.ClientUnaryCall;
  
  PushDirectory(argument: _build_bazel_remote_asset_v1_PushDirectoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushDirectoryResponse__Output>): grpc.ClientUnaryCall;
  PushDirectory(argument: _build_bazel_remote_asset_v1_PushDirectoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushDirectoryResponse__Output>): grpc.ClientUnaryCall;
  PushDirectory(argument: _build_bazel_remote_asset_v1_PushDirectoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushDirectoryResponse__Output>): grpc.ClientUnaryCall;
  PushDirectory(argument: _build_bazel_remote_asset_v1_PushDirectoryRequest, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushDirectoryResponse__Output>): grpc.ClientUnaryCall;
  pushDirectory(argument: _build_bazel_remote_asset_v1_PushDirectoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushDirectoryResponse__Output>): grpc.ClientUnaryCall;
  pushDirectory(argument: _build_bazel_remote_asset_v1_PushDirectoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushDirectoryResponse__Output>): grpc.ClientUnaryCall;
  pushDirectory(argument: _build_bazel_remote_asset_v1_PushDirectoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushDirectoryResponse__Output>): grpc.ClientUnaryCall;
  pushDirectory(argument: _build_bazel_remote_asset_v1_PushDirectoryRequest, callback: grpc.requestCallback<_build_bazel_remote_asset_v1_PushDirectoryResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface PushHandlers extends grpc.UntypedServiceImplementation {
  PushBlob: grpc.handleUnaryCall<_build_bazel_remote_asset_v1_PushBlobRequest__Output, _build_bazel_remote_asset_v1_PushBlobResponse>;
  
  PushDirectory: grpc.handleUnaryCall<_build_bazel_remote_asset_v1_PushDirectoryRequest__Output, _build_bazel_remote_asset_v1_PushDirectoryResponse>;
  
}

export interface PushDefinition extends grpc.ServiceDefinition {
  PushBlob: MethodDefinition<_build_bazel_remote_asset_v1_PushBlobRequest, _build_bazel_remote_asset_v1_PushBlobResponse, _build_bazel_remote_asset_v1_PushBlobRequest__Output, _build_bazel_remote_asset_v1_PushBlobResponse__Output>
  PushDirectory: MethodDefinition<_build_bazel_remote_asset_v1_PushDirectoryRequest, _build_bazel_remote_asset_v1_PushDirectoryResponse, _build_bazel_remote_asset_v1_PushDirectoryRequest__Output, _build_bazel_remote_asset_v1_PushDirectoryResponse__Output>
}

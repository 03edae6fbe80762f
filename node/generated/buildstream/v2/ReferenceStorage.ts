// Original file: protos/buildstream/v2/buildstream.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetReferenceRequest as _buildstream_v2_GetReferenceRequest, GetReferenceRequest__Output as _buildstream_v2_GetReferenceRequest__Output } from '../../buildstream/v2/GetReferenceRequest.js';
import type { GetReferenceResponse as _buildstream_v2_GetReferenceResponse, GetReferenceResponse__Output as _buildstream_v2_GetReferenceResponse__Output } from '../../buildstream/v2/GetReferenceResponse.js';
import type { StatusRequest as _buildstream_v2_StatusRequest, StatusRequest__Output as _buildstream_v2_StatusRequest__Output } from '../../buildstream/v2/StatusRequest.js';
import type { StatusResponse as _buildstream_v2_StatusResponse, StatusResponse__Output as _buildstream_v2_StatusResponse__Output } from '../../buildstream/v2/StatusResponse.js';
import type { UpdateReferenceRequest as _buildstream_v2_UpdateReferenceRequest, UpdateReferenceRequest__Output as _buildstream_v2_UpdateReferenceRequest__Output } from '../../buildstream/v2/UpdateReferenceRequest.js';
import type { UpdateReferenceResponse as _buildstream_v2_UpdateReferenceResponse, UpdateReferenceResponse__Output as _buildstream_v2_UpdateReferenceResponse__Output } from '../../buildstream/v2/UpdateReferenceResponse.js';

export interface ReferenceStorageClient extends grpc.Client {
  GetReference(argument: _buildstream_v2_GetReferenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_GetReferenceResponse__Output>): grpc.ClientUnaryCall;
  GetReference(argument: _buildstream_v2_GetReferenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_buildstream_v2_GetReferenceResponse__Output>): grpc.ClientUnaryCall;
  GetReference(argument: _buildstream_v2_GetReferenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_GetReferenceResponse__Output>): grpc.ClientUnaryCall;
  GetReference(argument: _buildstream_v2_GetReferenceRequest, callback: grpc.requestCallback<_buildstream_v2_GetReferenceResponse__Output>): grpc.ClientUnaryCall;
  getReference(argument: _buildstream_v2_GetReferenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_GetReferenceResponse__Output>): grpc.ClientUnaryCall;
  getReference(argument: _buildstream_v2_GetReferenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_buildstream_v2_GetReferenceResponse__Output>): grpc.ClientUnaryCall;
  getReference(argument: _buildstream_v2_GetReferenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_GetReferenceResponse__Output>): grpc.ClientUnaryCall;
  getReference(argument: _buildstream_v2_GetReferenceRequest, callback: grpc.requestCallback<_buildstream_v2_GetReferenceResponse__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _buildstream_v2_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _buildstream_v2_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_buildstream_v2_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _buildstream_v2_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _buildstream_v2_StatusRequest, callback: grpc.requestCallback<_buildstream_v2_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _buildstream_v2_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _buildstream_v2_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_buildstream_v2_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _buildstream_v2_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _buildstream_v2_StatusRequest, callback: grpc.requestCallback<_buildstream_v2_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  UpdateReference(argument: _buildstream_v2_UpdateReferenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_UpdateReferenceResponse__Output>): grpc.ClientUnaryCall;
  UpdateReference(argument: _buildstream_v2_UpdateReferenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_buildstream_v2_UpdateReferenceResponse__Output>): grpc.ClientUnaryCall;
  UpdateReference(argument: _buildstream_v2_UpdateReferenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_UpdateReferenceResponse__Output>): grpc.ClientUnaryCall;
  UpdateReference(argument: _buildstream_v2_UpdateReferenceRequest, callback: grpc.requestCallback<_buildstream_v2_UpdateReferenceResponse__Output>): grpc.ClientUnaryCall;
  updateReference(argument: _buildstream_v2_UpdateReferenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_UpdateReferenceResponse__Output>): grpc.ClientUnaryCall;
  updateReference(argument: _buildstream_v2_UpdateReferenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_buildstream_v2_UpdateReferenceResponse__Output>): grpc.ClientUnaryCall;
  updateReference(argument: _buildstream_v2_UpdateReferenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_buildstream_v2_UpdateReferenceResponse__Output>): grpc.ClientUnaryCall;
  updateReference(argument: _buildstream_v2_UpdateReferenceRequest, callback: grpc.requestCallback<_buildstream_v2_UpdateReferenceResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ReferenceStorageHandlers extends grpc.UntypedServiceImplementation {
  GetReference: grpc.handleUnaryCall<_buildstream_v2_GetReferenceRequest__Output, _buildstream_v2_GetReferenceResponse>;
  
  Status: grpc.handleUnaryCall<_buildstream_v2_StatusRequest__Output, _buildstream_v2_StatusResponse>;
  
  UpdateReference: grpc.handleUnaryCall<_buildstream_v2_UpdateReferenceRequest__Output, _buildstream_v2_UpdateReferenceResponse>;
  
}

export interface ReferenceStorageDefinition extends grpc.ServiceDefinition {
  GetReference: MethodDefinition<_buildstream_v2_GetReferenceRequest, _buildstream_v2_GetReferenceResponse, _buildstream_v2_GetReferenceRequest__Output, _buildstream_v2_GetReferenceResponse__Output>
  Status: MethodDefinition<_buildstream_v2_StatusRequest, _buildstream_v2_StatusResponse, _buildstream_v2_StatusRequest__Output, _buildstream_v2_StatusResponse__Output>
  UpdateReference: MethodDefinition<_buildstream_v2_UpdateReferenceRequest, _buildstream_v2_UpdateReferenceResponse, _buildstream_v2_UpdateReferenceRequest__Output, _buildstream_v2_UpdateReferenceResponse__Output>
}

// Original file: protos/peercas/admin/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GetStatusRequest as _peercas_admin_v1_GetStatusRequest, GetStatusRequest__Output as _peercas_admin_v1_GetStatusRequest__Output } from '../../../peercas/admin/v1/GetStatusRequest.js';
import type { GetStatusResponse as _peercas_admin_v1_GetStatusResponse, GetStatusResponse__Output as _peercas_admin_v1_GetStatusResponse__Output } from '../../../peercas/admin/v1/GetStatusResponse.js';
import type { RunGcRequest as _peercas_admin_v1_RunGcRequest, RunGcRequest__Output as _peercas_admin_v1_RunGcRequest__Output } from '../../../peercas/admin/v1/RunGcRequest.js';
import type { RunGcResponse as _peercas_admin_v1_RunGcResponse, RunGcResponse__Output as _peercas_admin_v1_RunGcResponse__Output } from '../../../peercas/admin/v1/RunGcResponse.js';

export interface AdminClient extends grpc.Client {
  GetStatus(argument: _peercas_admin_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _peercas_admin_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _peercas_admin_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _peercas_admin_v1_GetStatusRequest, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _peercas_admin_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _peercas_admin_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _peercas_admin_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _peercas_admin_v1_GetStatusRequest, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  
  RunGc(argument: _peercas_admin_v1_RunGcRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  RunGc(argument: _peercas_admin_v1_RunGcRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  RunGc(argument: _peercas_admin_v1_RunGcRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  RunGc(argument: _peercas_admin_v1_RunGcRequest, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  runGc(argument: _peercas_admin_v1_RunGcRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  runGc(argument: _peercas_admin_v1_RunGcRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  runGc(argument: _peercas_admin_v1_RunGcRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  runGc(argument: _peercas_admin_v1_RunGcRequest, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AdminHandlers extends grpc.UntypedServiceImplementation {
  GetStatus: grpc.handleUnaryCall<_peercas_admin_v1_GetStatusRequest__Output, _peercas_admin_v1_GetStatusResponse>;
  
  RunGc: grpc.handleUnaryCall<_peercas_admin_v1_RunGcRequest__Output, _peercas_admin_v1_RunGcResponse>;
  
}

export interface AdminDefinition extends grpc.ServiceDefinition {
  GetStatus: MethodDefinition<_peercas_admin_v1_GetStatusRequest, _peercas_admin_v1_GetStatusResponse, _peercas_admin_v1_GetStatusRequest__Output, _peercas_admin_v1_GetStatusResponse__Output>
  RunGc: MethodDefinition<_peercas_admin_v1_RunGcRequest, _peercas_admin_v1_RunGcResponse, _peercas_admin_v1_RunGcRequest__Output, _peercas_admin_v1_RunGcResponse__Output>
}

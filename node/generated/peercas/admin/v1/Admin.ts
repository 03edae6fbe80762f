// Original file: protos/peercas/admin/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CloseSocketRequest as _peercas_admin_v1_CloseSocketRequest, CloseSocketRequest__Output as _peercas_admin_v1_CloseSocketRequest__Output } from '../../../peercas/admin/v1/CloseSocketRequest.js';
import type { CloseSocketResponse as _peercas_admin_v1_CloseSocketResponse, CloseSocketResponse__Output as _peercas_admin_v1_CloseSocketResponse__Output } from '../../../peercas/admin/v1/CloseSocketResponse.js';
import type { FlushProgress as _peercas_admin_v1_FlushProgress, FlushProgress__Output as _peercas_admin_v1_FlushProgress__Output } from '../../../peercas/admin/v1/FlushProgress.js';
import type { FlushRequest as _peercas_admin_v1_FlushRequest, FlushRequest__Output as _peercas_admin_v1_FlushRequest__Output } from '../../../peercas/admin/v1/FlushRequest.js';
import type { GetStatusRequest as _peercas_admin_v1_GetStatusRequest, GetStatusRequest__Output as _peercas_admin_v1_GetStatusRequest__Output } from '../../../peercas/admin/v1/GetStatusRequest.js';
import type { GetStatusResponse as _peercas_admin_v1_GetStatusResponse, GetStatusResponse__Output as _peercas_admin_v1_GetStatusResponse__Output } from '../../../peercas/admin/v1/GetStatusResponse.js';
import type { OpenSocketRequest as _peercas_admin_v1_OpenSocketRequest, OpenSocketRequest__Output as _peercas_admin_v1_OpenSocketRequest__Output } from '../../../peercas/admin/v1/OpenSocketRequest.js';
import type { OpenSocketResponse as _peercas_admin_v1_OpenSocketResponse, OpenSocketResponse__Output as _peercas_admin_v1_OpenSocketResponse__Output } from '../../../peercas/admin/v1/OpenSocketResponse.js';
import type { RunGcRequest as _peercas_admin_v1_RunGcRequest, RunGcRequest__Output as _peercas_admin_v1_RunGcRequest__Output } from '../../../peercas/admin/v1/RunGcRequest.js';
import type { RunGcResponse as _peercas_admin_v1_RunGcResponse, RunGcResponse__Output as _peercas_admin_v1_RunGcResponse__Output } from '../../../peercas/admin/v1/RunGcResponse.js';
import type { SyncProgress as _peercas_admin_v1_SyncProgress, SyncProgress__Output as _peercas_admin_v1_SyncProgress__Output } from '../../../peercas/admin/v1/SyncProgress.js';
import type { SyncRequest as _peercas_admin_v1_SyncRequest, SyncRequest__Output as _peercas_admin_v1_SyncRequest__Output } from '../../../peercas/admin/v1/SyncRequest.js';

export interface AdminClient extends grpc.Client {
  CloseSocket(argument: _peercas_admin_v1_CloseSocketRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_CloseSocketResponse__Output>): grpc.ClientUnaryCall;
  CloseSocket(argument: _peercas_admin_v1_CloseSocketRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_CloseSocketResponse__Output>): grpc.ClientUnaryCall;
  CloseSocket(argument: _peercas_admin_v1_CloseSocketRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_CloseSocketResponse__Output>): grpc.ClientUnaryCall;
  CloseSocket(argument: _peercas_admin_v1_CloseSocketRequest, callback: grpc.requestCallback<_peercas_admin_v1_CloseSocketResponse__Output>): grpc.ClientUnaryCall;
  closeSocket(argument: _peercas_admin_v1_CloseSocketRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_CloseSocketResponse__Output>): grpc.ClientUnaryCall;
  closeSocket(argument: _peercas_admin_v1_CloseSocketRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_CloseSocketResponse__Output>): grpc.ClientUnaryCall;
  closeSocket(argument: _peercas_admin_v1_CloseSocketRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_CloseSocketResponse__Output>): grpc.ClientUnaryCall;
  closeSocket(argument: _peercas_admin_v1_CloseSocketRequest, callback: grpc.requestCallback<_peercas_admin_v1_CloseSocketResponse__Output>): grpc.ClientUnaryCall;
  
  Flush(argument: _peercas_admin_v1_FlushRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_peercas_admin_v1_FlushProgress__Output>;
  Flush(argument: _peercas_admin_v1_FlushRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_peercas_admin_v1_FlushProgress__Output>;
  flush(argument: _peercas_admin_v1_FlushRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_peercas_admin_v1_FlushProgress__Output>;
  flush(argument: _peercas_admin_v1_FlushRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_peercas_admin_v1_FlushProgress__Output>;
  
  GetStatus(argument: _peercas_admin_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _peercas_admin_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _peercas_admin_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  GetStatus(argument: _peercas_admin_v1_GetStatusRequest, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _peercas_admin_v1_GetStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _peercas_admin_v1_GetStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _peercas_admin_v1_GetStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  getStatus(argument: _peercas_admin_v1_GetStatusRequest, callback: grpc.requestCallback<_peercas_admin_v1_GetStatusResponse__Output>): grpc.ClientUnaryCall;
  
  OpenSocket(argument: _peercas_admin_v1_OpenSocketRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_OpenSocketResponse__Output>): grpc.ClientUnaryCall;
  OpenSocket(argument: _peercas_admin_v1_OpenSocketRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_OpenSocketResponse__Output>): grpc.ClientUnaryCall;
  OpenSocket(argument: _peercas_admin_v1_OpenSocketRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_OpenSocketResponse__Output>): grpc.ClientUnaryCall;
  OpenSocket(argument: _peercas_admin_v1_OpenSocketRequest, callback: grpc.requestCallback<_peercas_admin_v1_OpenSocketResponse__Output>): grpc.ClientUnaryCall;
  openSocket(argument: _peercas_admin_v1_OpenSocketRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_OpenSocketResponse__Output>): grpc.ClientUnaryCall;
  openSocket(argument: _peercas_admin_v1_OpenSocketRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_OpenSocketResponse__Output>): grpc.ClientUnaryCall;
  openSocket(argument: _peercas_admin_v1_OpenSocketRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_OpenSocketResponse__Output>): grpc.ClientUnaryCall;
  openSocket(argument: _peercas_admin_v1_OpenSocketRequest, callback: grpc.requestCallback<_peercas_admin_v1_OpenSocketResponse__Output>): grpc.ClientUnaryCall;
  
  RunGc(argument: _peercas_admin_v1_RunGcRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  RunGc(argument: _peercas_admin_v1_RunGcRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  RunGc(argument: _peercas_admin_v1_RunGcRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  RunGc(argument: _peercas_admin_v1_RunGcRequest, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  runGc(argument: _peercas_admin_v1_RunGcRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  runGc(argument: _peercas_admin_v1_RunGcRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  runGc(argument: _peercas_admin_v1_RunGcRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  runGc(argument: _peercas_admin_v1_RunGcRequest, callback: grpc.requestCallback<_peercas_admin_v1_RunGcResponse__Output>): grpc.ClientUnaryCall;
  
  Sync(argument: _peercas_admin_v1_SyncRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_peercas_admin_v1_SyncProgress__Output>;
  Sync(argument: _peercas_admin_v1_SyncRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_peercas_admin_v1_SyncProgress__Output>;
  sync(argument: _peercas_admin_v1_SyncRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_peercas_admin_v1_SyncProgress__Output>;
  sync(argument: _peercas_admin_v1_SyncRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_peercas_admin_v1_SyncProgress__Output>;
  
}

export interface AdminHandlers extends grpc.UntypedServiceImplementation {
  CloseSocket: grpc.handleUnaryCall<_peercas_admin_v1_CloseSocketRequest__Output, _peercas_admin_v1_CloseSocketResponse>;
  
  Flush: grpc.handleServerStreamingCall<_peercas_admin_v1_FlushRequest__Output, _peercas_admin_v1_FlushProgress>;
  
  GetStatus: grpc.handleUnaryCall<_peercas_admin_v1_GetStatusRequest__Output, _peercas_admin_v1_GetStatusResponse>;
  
  OpenSocket: grpc.handleUnaryCall<_peercas_admin_v1_OpenSocketRequest__Output, _peercas_admin_v1_OpenSocketResponse>;
  
  RunGc: grpc.handleUnaryCall<_peercas_admin_v1_RunGcRequest__Output, _peercas_admin_v1_RunGcResponse>;
  
  Sync: grpc.handleServerStreamingCall<_peercas_admin_v1_SyncRequest__Output, _peercas_admin_v1_SyncProgress>;
  
}

export interface AdminDefinition extends grpc.ServiceDefinition {
  CloseSocket: MethodDefinition<_peercas_admin_v1_CloseSocketRequest, _peercas_admin_v1_CloseSocketResponse, _peercas_admin_v1_CloseSocketRequest__Output, _peercas_admin_v1_CloseSocketResponse__Output>
  Flush: MethodDefinition<_peercas_admin_v1_FlushRequest, _peercas_admin_v1_FlushProgress, _peercas_admin_v1_FlushRequest__Output, _peercas_admin_v1_FlushProgress__Output>
  GetStatus: MethodDefinition<_peercas_admin_v1_GetStatusRequest, _peercas_admin_v1_GetStatusResponse, _peercas_admin_v1_GetStatusRequest__Output, _peercas_admin_v1_GetStatusResponse__Output>
  OpenSocket: MethodDefinition<_peercas_admin_v1_OpenSocketRequest, _peercas_admin_v1_OpenSocketResponse, _peercas_admin_v1_OpenSocketRequest__Output, _peercas_admin_v1_OpenSocketResponse__Output>
  RunGc: MethodDefinition<_peercas_admin_v1_RunGcRequest, _peercas_admin_v1_RunGcResponse, _peercas_admin_v1_RunGcRequest__Output, _peercas_admin_v1_RunGcResponse__Output>
  Sync: MethodDefinition<_peercas_admin_v1_SyncRequest, _peercas_admin_v1_SyncProgress, _peercas_admin_v1_SyncRequest__Output, _peercas_admin_v1_SyncProgress__Output>
}

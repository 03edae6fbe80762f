import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AdminClient as _peercas_admin_v1_AdminClient, AdminDefinition as _peercas_admin_v1_AdminDefinition } from './peercas/admin/v1/Admin.js';
import type { CloseSocketRequest as _peercas_admin_v1_CloseSocketRequest, CloseSocketRequest__Output as _peercas_admin_v1_CloseSocketRequest__Output } from './peercas/admin/v1/CloseSocketRequest.js';
import type { CloseSocketResponse as _peercas_admin_v1_CloseSocketResponse, CloseSocketResponse__Output as _peercas_admin_v1_CloseSocketResponse__Output } from './peercas/admin/v1/CloseSocketResponse.js';
import type { FlushProgress as _peercas_admin_v1_FlushProgress, FlushProgress__Output as _peercas_admin_v1_FlushProgress__Output } from './peercas/admin/v1/FlushProgress.js';
import type { FlushRequest as _peercas_admin_v1_FlushRequest, FlushRequest__Output as _peercas_admin_v1_FlushRequest__Output } from './peercas/admin/v1/FlushRequest.js';
import type { GetStatusRequest as _peercas_admin_v1_GetStatusRequest, GetStatusRequest__Output as _peercas_admin_v1_GetStatusRequest__Output } from './peercas/admin/v1/GetStatusRequest.js';
import type { GetStatusResponse as _peercas_admin_v1_GetStatusResponse, GetStatusResponse__Output as _peercas_admin_v1_GetStatusResponse__Output } from './peercas/admin/v1/GetStatusResponse.js';
import type { OpenSocketRequest as _peercas_admin_v1_OpenSocketRequest, OpenSocketRequest__Output as _peercas_admin_v1_OpenSocketRequest__Output } from './peercas/admin/v1/OpenSocketRequest.js';
import type { OpenSocketResponse as _peercas_admin_v1_OpenSocketResponse, OpenSocketResponse__Output as _peercas_admin_v1_OpenSocketResponse__Output } from './peercas/admin/v1/OpenSocketResponse.js';
import type { PeerStatus as _peercas_admin_v1_PeerStatus, PeerStatus__Output as _peercas_admin_v1_PeerStatus__Output } from './peercas/admin/v1/PeerStatus.js';
import type { RemoteStatus as _peercas_admin_v1_RemoteStatus, RemoteStatus__Output as _peercas_admin_v1_RemoteStatus__Output } from './peercas/admin/v1/RemoteStatus.js';
import type { RunGcRequest as _peercas_admin_v1_RunGcRequest, RunGcRequest__Output as _peercas_admin_v1_RunGcRequest__Output } from './peercas/admin/v1/RunGcRequest.js';
import type { RunGcResponse as _peercas_admin_v1_RunGcResponse, RunGcResponse__Output as _peercas_admin_v1_RunGcResponse__Output } from './peercas/admin/v1/RunGcResponse.js';
import type { StaticPeerStatus as _peercas_admin_v1_StaticPeerStatus, StaticPeerStatus__Output as _peercas_admin_v1_StaticPeerStatus__Output } from './peercas/admin/v1/StaticPeerStatus.js';
import type { StoreStatus as _peercas_admin_v1_StoreStatus, StoreStatus__Output as _peercas_admin_v1_StoreStatus__Output } from './peercas/admin/v1/StoreStatus.js';
import type { SyncProgress as _peercas_admin_v1_SyncProgress, SyncProgress__Output as _peercas_admin_v1_SyncProgress__Output } from './peercas/admin/v1/SyncProgress.js';
import type { SyncRequest as _peercas_admin_v1_SyncRequest, SyncRequest__Output as _peercas_admin_v1_SyncRequest__Output } from './peercas/admin/v1/SyncRequest.js';
import type { TierCounters as _peercas_admin_v1_TierCounters, TierCounters__Output as _peercas_admin_v1_TierCounters__Output } from './peercas/admin/v1/TierCounters.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  peercas: {
    admin: {
      v1: {
        Admin: SubtypeConstructor<typeof grpc.Client, _peercas_admin_v1_AdminClient> & { service: _peercas_admin_v1_AdminDefinition }
        CloseSocketRequest: MessageTypeDefinition<_peercas_admin_v1_CloseSocketRequest, _peercas_admin_v1_CloseSocketRequest__Output>
        CloseSocketResponse: MessageTypeDefinition<_peercas_admin_v1_CloseSocketResponse, _peercas_admin_v1_CloseSocketResponse__Output>
        FlushProgress: MessageTypeDefinition<_peercas_admin_v1_FlushProgress, _peercas_admin_v1_FlushProgress__Output>
        FlushRequest: MessageTypeDefinition<_peercas_admin_v1_FlushRequest, _peercas_admin_v1_FlushRequest__Output>
        GetStatusRequest: MessageTypeDefinition<_peercas_admin_v1_GetStatusRequest, _peercas_admin_v1_GetStatusRequest__Output>
        GetStatusResponse: MessageTypeDefinition<_peercas_admin_v1_GetStatusResponse, _peercas_admin_v1_GetStatusResponse__Output>
        OpenSocketRequest: MessageTypeDefinition<_peercas_admin_v1_OpenSocketRequest, _peercas_admin_v1_OpenSocketRequest__Output>
        OpenSocketResponse: MessageTypeDefinition<_peercas_admin_v1_OpenSocketResponse, _peercas_admin_v1_OpenSocketResponse__Output>
        PeerStatus: MessageTypeDefinition<_peercas_admin_v1_PeerStatus, _peercas_admin_v1_PeerStatus__Output>
        RemoteStatus: MessageTypeDefinition<_peercas_admin_v1_RemoteStatus, _peercas_admin_v1_RemoteStatus__Output>
        RunGcRequest: MessageTypeDefinition<_peercas_admin_v1_RunGcRequest, _peercas_admin_v1_RunGcRequest__Output>
        RunGcResponse: MessageTypeDefinition<_peercas_admin_v1_RunGcResponse, _peercas_admin_v1_RunGcResponse__Output>
        StaticPeerStatus: MessageTypeDefinition<_peercas_admin_v1_StaticPeerStatus, _peercas_admin_v1_StaticPeerStatus__Output>
        StoreStatus: MessageTypeDefinition<_peercas_admin_v1_StoreStatus, _peercas_admin_v1_StoreStatus__Output>
        SyncProgress: MessageTypeDefinition<_peercas_admin_v1_SyncProgress, _peercas_admin_v1_SyncProgress__Output>
        SyncRequest: MessageTypeDefinition<_peercas_admin_v1_SyncRequest, _peercas_admin_v1_SyncRequest__Output>
        TierCounters: MessageTypeDefinition<_peercas_admin_v1_TierCounters, _peercas_admin_v1_TierCounters__Output>
      }
    }
  }
}


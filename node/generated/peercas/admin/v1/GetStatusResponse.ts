// Original file: protos/peercas/admin/v1/admin.proto

import type { StoreStatus as _peercas_admin_v1_StoreStatus, StoreStatus__Output as _peercas_admin_v1_StoreStatus__Output } from '../../../peercas/admin/v1/StoreStatus.js';
import type { TierCounters as _peercas_admin_v1_TierCounters, TierCounters__Output as _peercas_admin_v1_TierCounters__Output } from '../../../peercas/admin/v1/TierCounters.js';
import type { PeerStatus as _peercas_admin_v1_PeerStatus, PeerStatus__Output as _peercas_admin_v1_PeerStatus__Output } from '../../../peercas/admin/v1/PeerStatus.js';
import type { RemoteStatus as _peercas_admin_v1_RemoteStatus, RemoteStatus__Output as _peercas_admin_v1_RemoteStatus__Output } from '../../../peercas/admin/v1/RemoteStatus.js';
import type { StaticPeerStatus as _peercas_admin_v1_StaticPeerStatus, StaticPeerStatus__Output as _peercas_admin_v1_StaticPeerStatus__Output } from '../../../peercas/admin/v1/StaticPeerStatus.js';
import type { Long } from '@grpc/proto-loader';

export interface GetStatusResponse {
  'version'?: (string);
  'pid'?: (number);
  'dataDir'?: (string);
  'socketPath'?: (string);
  'tcpAddresses'?: (string)[];
  'store'?: (_peercas_admin_v1_StoreStatus | null);
  'hits'?: (_peercas_admin_v1_TierCounters | null);
  'peers'?: (_peercas_admin_v1_PeerStatus)[];
  'remote'?: (_peercas_admin_v1_RemoteStatus | null);
  'uptimeSeconds'?: (number | string);
  'peerId'?: (string);
  'p2pAddresses'?: (string)[];
  'hitsLastHour'?: (_peercas_admin_v1_TierCounters | null);
  'peerBytesFetched'?: (number | string | Long);
  'centralBytesFetched'?: (number | string | Long);
  'staticPeers'?: (_peercas_admin_v1_StaticPeerStatus)[];
  'metricsUrl'?: (string);
}

export interface GetStatusResponse__Output {
  'version': (string);
  'pid': (number);
  'dataDir': (string);
  'socketPath': (string);
  'tcpAddresses': (string)[];
  'store': (_peercas_admin_v1_StoreStatus__Output | null);
  'hits': (_peercas_admin_v1_TierCounters__Output | null);
  'peers': (_peercas_admin_v1_PeerStatus__Output)[];
  'remote': (_peercas_admin_v1_RemoteStatus__Output | null);
  'uptimeSeconds': (number);
  'peerId': (string);
  'p2pAddresses': (string)[];
  'hitsLastHour': (_peercas_admin_v1_TierCounters__Output | null);
  'peerBytesFetched': (number);
  'centralBytesFetched': (number);
  'staticPeers': (_peercas_admin_v1_StaticPeerStatus__Output)[];
  'metricsUrl': (string);
}

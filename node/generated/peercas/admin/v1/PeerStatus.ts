// Original file: protos/peercas/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface PeerStatus {
  'peerId'?: (string);
  'addresses'?: (string)[];
  'blobsAdvertised'?: (number | string | Long);
  'bytesFetchedFrom'?: (number | string | Long);
  'bytesServedTo'?: (number | string | Long);
  'banned'?: (boolean);
  'bannedUntilMs'?: (number | string | Long);
  'connected'?: (boolean);
  'summaryKept'?: (boolean);
  'announcementsPausedByUs'?: (boolean);
  'announcementsPausedByPeer'?: (boolean);
}

export interface PeerStatus__Output {
  'peerId': (string);
  'addresses': (string)[];
  'blobsAdvertised': (number);
  'bytesFetchedFrom': (number);
  'bytesServedTo': (number);
  'banned': (boolean);
  'bannedUntilMs': (number);
  'connected': (boolean);
  'summaryKept': (boolean);
  'announcementsPausedByUs': (boolean);
  'announcementsPausedByPeer': (boolean);
}

// Original file: protos/peercas/admin/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface StaticPeerStatus {
  'address'?: (string);
  'peerId'?: (string);
  'connected'?: (boolean);
  'lastError'?: (string);
  'failedDials'?: (number);
  'nextDialMs'?: (number | string | Long);
}

export interface StaticPeerStatus__Output {
  'address': (string);
  'peerId': (string);
  'connected': (boolean);
  'lastError': (string);
  'failedDials': (number);
  'nextDialMs': (number);
}

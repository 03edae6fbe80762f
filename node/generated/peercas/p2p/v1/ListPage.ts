// Original file: protos/peercas/p2p/v1/p2p.proto

import type { BlobRef as _peercas_p2p_v1_BlobRef, BlobRef__Output as _peercas_p2p_v1_BlobRef__Output } from '../../../peercas/p2p/v1/BlobRef.js';
import type { ActionEntry as _peercas_p2p_v1_ActionEntry, ActionEntry__Output as _peercas_p2p_v1_ActionEntry__Output } from '../../../peercas/p2p/v1/ActionEntry.js';

export interface ListPage {
  'blobs'?: (_peercas_p2p_v1_BlobRef)[];
  'actions'?: (_peercas_p2p_v1_ActionEntry)[];
  'done'?: (boolean);
}

export interface ListPage__Output {
  'blobs': (_peercas_p2p_v1_BlobRef__Output)[];
  'actions': (_peercas_p2p_v1_ActionEntry__Output)[];
  'done': (boolean);
}

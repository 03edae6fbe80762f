// Original file: protos/peercas/p2p/v1/p2p.proto

import type { BlobRef as _peercas_p2p_v1_BlobRef, BlobRef__Output as _peercas_p2p_v1_BlobRef__Output } from '../../../peercas/p2p/v1/BlobRef.js';
import type { ActionEntry as _peercas_p2p_v1_ActionEntry, ActionEntry__Output as _peercas_p2p_v1_ActionEntry__Output } from '../../../peercas/p2p/v1/ActionEntry.js';
import type { NameEntry as _peercas_p2p_v1_NameEntry, NameEntry__Output as _peercas_p2p_v1_NameEntry__Output } from '../../../peercas/p2p/v1/NameEntry.js';

export interface ListPage {
  'blobs'?: (_peercas_p2p_v1_BlobRef)[];
  'actions'?: (_peercas_p2p_v1_ActionEntry)[];
  'done'?: (boolean);
  'names'?: (_peercas_p2p_v1_NameEntry)[];
}

export interface ListPage__Output {
  'blobs': (_peercas_p2p_v1_BlobRef__Output)[];
  'actions': (_peercas_p2p_v1_ActionEntry__Output)[];
  'done': (boolean);
  'names': (_peercas_p2p_v1_NameEntry__Output)[];
}

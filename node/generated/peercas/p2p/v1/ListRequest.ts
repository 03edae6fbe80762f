// Original file: protos/peercas/p2p/v1/p2p.proto

import type { Long } from '@grpc/proto-loader';

// Original file: protos/peercas/p2p/v1/p2p.proto

export const _peercas_p2p_v1_ListRequest_Kind = {
  BLOBS: 'BLOBS',
  ACTION_RESULTS: 'ACTION_RESULTS',
  NAMED_RESULTS: 'NAMED_RESULTS',
} as const;

export type _peercas_p2p_v1_ListRequest_Kind =
  | 'BLOBS'
  | 0
  | 'ACTION_RESULTS'
  | 1
  | 'NAMED_RESULTS'
  | 2

export type _peercas_p2p_v1_ListRequest_Kind__Output = typeof _peercas_p2p_v1_ListRequest_Kind[keyof typeof _peercas_p2p_v1_ListRequest_Kind]

export interface ListRequest {
  'kind'?: (_peercas_p2p_v1_ListRequest_Kind);
  'sinceMs'?: (number | string | Long);
  'nameKind'?: (string);
}

export interface ListRequest__Output {
  'kind': (_peercas_p2p_v1_ListRequest_Kind__Output);
  'sinceMs': (number);
  'nameKind': (string);
}

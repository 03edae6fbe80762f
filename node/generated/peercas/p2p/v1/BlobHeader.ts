// Original file: protos/peercas/p2p/v1/p2p.proto

import type { BodyEncoding as _peercas_p2p_v1_BodyEncoding, BodyEncoding__Output as _peercas_p2p_v1_BodyEncoding__Output } from '../../../peercas/p2p/v1/BodyEncoding.js';
import type { Long } from '@grpc/proto-loader';

// Original file: protos/peercas/p2p/v1/p2p.proto

export const _peercas_p2p_v1_BlobHeader_Status = {
  OK: 'OK',
  NOT_FOUND: 'NOT_FOUND',
  BUSY: 'BUSY',
  INVALID: 'INVALID',
} as const;

export type _peercas_p2p_v1_BlobHeader_Status =
  | 'OK'
  | 0
  | 'NOT_FOUND'
  | 1
  | 'BUSY'
  | 2
  | 'INVALID'
  | 3

export type _peercas_p2p_v1_BlobHeader_Status__Output = typeof _peercas_p2p_v1_BlobHeader_Status[keyof typeof _peercas_p2p_v1_BlobHeader_Status]

export interface BlobHeader {
  'status'?: (_peercas_p2p_v1_BlobHeader_Status);
  'offset'?: (number | string | Long);
  'length'?: (number | string | Long);
  'message'?: (string);
  'encoding'?: (_peercas_p2p_v1_BodyEncoding);
}

export interface BlobHeader__Output {
  'status': (_peercas_p2p_v1_BlobHeader_Status__Output);
  'offset': (number);
  'length': (number);
  'message': (string);
  'encoding': (_peercas_p2p_v1_BodyEncoding__Output);
}

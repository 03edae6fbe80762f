// Original file: protos/peercas/p2p/v1/p2p.proto

import type { Long } from '@grpc/proto-loader';

// Original file: protos/peercas/p2p/v1/p2p.proto

export const _peercas_p2p_v1_PieceMap_Status = {
  OK: 'OK',
  NOT_FOUND: 'NOT_FOUND',
} as const;

export type _peercas_p2p_v1_PieceMap_Status =
  | 'OK'
  | 0
  | 'NOT_FOUND'
  | 1

export type _peercas_p2p_v1_PieceMap_Status__Output = typeof _peercas_p2p_v1_PieceMap_Status[keyof typeof _peercas_p2p_v1_PieceMap_Status]

export interface PieceMap {
  'status'?: (_peercas_p2p_v1_PieceMap_Status);
  'pieceBytes'?: (number | string | Long);
  'pieceSha256'?: (Buffer | Uint8Array | string)[];
  'have'?: (Buffer | Uint8Array | string);
  'complete'?: (boolean);
  'swarm'?: (string)[];
}

export interface PieceMap__Output {
  'status': (_peercas_p2p_v1_PieceMap_Status__Output);
  'pieceBytes': (number);
  'pieceSha256': (Buffer)[];
  'have': (Buffer);
  'complete': (boolean);
  'swarm': (string)[];
}

// Original file: protos/peercas/p2p/v1/p2p.proto


export interface PieceUpdate {
  'have'?: (number)[];
  'complete'?: (boolean);
}

export interface PieceUpdate__Output {
  'have': (number)[];
  'complete': (boolean);
}

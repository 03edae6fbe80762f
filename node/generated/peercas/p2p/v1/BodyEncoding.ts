// Original file: protos/peercas/p2p/v1/p2p.proto

export const BodyEncoding = {
  PLAIN: 'PLAIN',
  ZSTD_CHUNKS: 'ZSTD_CHUNKS',
} as const;

export type BodyEncoding =
  | 'PLAIN'
  | 0
  | 'ZSTD_CHUNKS'
  | 1

export type BodyEncoding__Output = typeof BodyEncoding[keyof typeof BodyEncoding]

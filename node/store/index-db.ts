import { Level } from 'level'
import type { AbstractBatchOperation, AbstractSublevel } from 'abstract-level'
import { DataDirLockedError } from './errors.js'

/**
 * What the index knows about one blob. Stored as 17 bytes:
 * size (float64 LE), last access ms (float64 LE), flags (u8).
 */
export interface BlobMeta {
  sizeBytes: number
  accessedAt: number
  inline: boolean
}

/** Blob and byte counts of a store, persisted under `stats` in the `meta` sublevel at a clean stop. */
export interface StoreTotals {
  blobCount: number
  totalBytes: number
  inlineBlobCount: number
}

const META_BYTES = 17
const FLAG_INLINE = 1

/** Encodes blob metadata for the `blob` sublevel. */
export function encodeMeta (meta: BlobMeta): Buffer {
  const out = Buffer.allocUnsafe(META_BYTES)
  out.writeDoubleLE(meta.sizeBytes, 0)
  out.writeDoubleLE(meta.accessedAt, 8)
  out.writeUInt8(meta.inline ? FLAG_INLINE : 0, 16)
  return out
}

/** Decodes blob metadata written by {@link encodeMeta}. */
export function decodeMeta (value: Uint8Array): BlobMeta {
  const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  return { sizeBytes: buf.readDoubleLE(0), accessedAt: buf.readDoubleLE(8), inline: (buf.readUInt8(16) & FLAG_INLINE) !== 0 }
}

/** Key of the LRU-order sublevel: fixed-width hex time, then the hash, so keys sort oldest first. */
export function accessKey (accessedAt: number, hash: string): string {
  return Math.floor(accessedAt).toString(16).padStart(12, '0') + hash
}

/** Splits an {@link accessKey} back into its hash. */
export function hashOfAccessKey (key: string): string {
  return key.slice(12)
}

/** A string-keyed, Buffer-valued sublevel of the index. */
export type Sublevel = AbstractSublevel<Level<string, Buffer>, string | Buffer | Uint8Array, string, Buffer>

/** One operation of an atomic multi-sublevel batch. */
export type IndexOp =
  | { type: 'put', sublevel: Sublevel, key: string, value: Buffer }
  | { type: 'del', sublevel: Sublevel, key: string }

/** Applies operations on several sublevels atomically. */
export async function writeBatch (index: Pick<IndexDb, 'db'>, ops: IndexOp[]): Promise<void> {
  if (ops.length === 0) return
  // The typings cannot express ops that each name their own sublevel; the runtime supports it.
  await index.db.batch(ops as unknown as Array<AbstractBatchOperation<Level<string, Buffer>, string, Buffer>>)
}

/** The LevelDB database behind a data dir and its sublevels. */
export interface IndexDb {
  readonly db: Level<string, Buffer>
  /** hash → {@link BlobMeta} */
  readonly blobs: Sublevel
  /** hash → bytes of an inline blob */
  readonly inlineData: Sublevel
  /** accessKey(time, hash) → empty: blobs in least-recently-used order */
  readonly lru: Sublevel
  /** `instance\0hash/size` → serialized ActionResult */
  readonly actions: Sublevel
  /** the same keys → when the entry was written (float64 LE ms) */
  readonly actionTimes: Sublevel
  /** small records: `stats`, `dirty` */
  readonly meta: Sublevel
}

/**
 * Opens (creating if needed) the index under `location`. LevelDB's own lock file makes a
 * second process on the same data dir fail here, which we report as {@link DataDirLockedError}.
 */
export async function openIndexDb (location: string): Promise<IndexDb> {
  const db = new Level<string, Buffer>(location, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
  try {
    await db.open()
  } catch (error) {
    const cause = (error as Error).cause as Error | undefined
    if (/lock/i.test(cause?.message ?? '') || /lock/i.test((error as Error).message)) {
      throw new DataDirLockedError(`the index at ${location} is locked: another peercas is using this data dir`, { cause: error })
    }
    throw error
  }
  const sub = (name: string): Sublevel =>
    db.sublevel<string, Buffer>(name, { keyEncoding: 'utf8', valueEncoding: 'buffer' }) as Sublevel
  return { db, blobs: sub('blob'), inlineData: sub('data'), lru: sub('lru'), actions: sub('ac'), actionTimes: sub('act'), meta: sub('meta') }
}

import { statfs } from 'node:fs/promises'
import { Level } from 'level'
import type { AbstractBatchOperation, AbstractResource, AbstractSublevel } from 'abstract-level'
import { silentLogger, type Logger } from '../log/logger.js'
import { DataDirLockedError, DiskFullError, IndexOpenError, IndexWriteError, diskFullOr, isDiskFull } from './errors.js'
import { INDEX_LOOKUP_SLICE_MIN, INDEX_LOOKUP_SLICES, INDEX_RECOVERY_FREE_BYTES, INDEX_RECOVERY_RETRY_MS, SYNC_INDEX_LOOKUP_MAX } from './constants.js'

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

/**
 * Applies operations on several sublevels atomically. After a failed index write it first
 * proves the index consistent again ({@link IndexLevel.ensureWritable}); a full disk is a
 * {@link DiskFullError}.
 */
export async function writeBatch (index: Pick<IndexDb, 'db'>, ops: IndexOp[]): Promise<void> {
  if (ops.length === 0) return
  await index.db.ensureWritable()
  try {
    // The typings cannot express ops that each name their own sublevel; the runtime supports it.
    await (index.db as Level<string, Buffer>).batch(ops as unknown as Array<AbstractBatchOperation<Level<string, Buffer>, string, Buffer>>)
  } catch (error) {
    throw diskFullOr(error, 'cannot write the index')
  }
}

type WriteMethod = (...args: unknown[]) => Promise<unknown>

/**
 * The index's LevelDB, guarded against writes after a failed one. When LevelDB fails to append
 * to its log (ENOSPC, EIO) it may leave a torn record there and still accept later appends,
 * which a restart then drops with the torn record ("bad record length"): acknowledged writes
 * lost. And a failed compaction makes LevelDB refuse every write until it is reopened. So after
 * any failed write — from the store or from a component writing through a sublevel — every write
 * is refused until the database has been closed and opened again (LevelDB replays its log up to
 * the torn record and starts a new one), which needs a little free space.
 */
export class IndexLevel extends Level<string, Buffer> {
  /** The first write failure since the index was last proven consistent. */
  writeFailure: Error | undefined
  private recovering: Promise<void> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private retired = false
  /** Sublevels opened on this database: a close closes them, a reopen must open them again. */
  private readonly sublevels = new Set<AbstractResource>()

  constructor (location: string, private readonly log: Logger = silentLogger) {
    super(location, { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    // Writes from every sublevel pass through here, whoever makes them.
    this.hooks.prewrite.add(() => {
      if (this.writeFailure !== undefined) throw this.refusal()
    })
    const self = this as unknown as Record<string, WriteMethod>
    for (const name of ['_put', '_del', '_batch']) {
      const write = self[name]!.bind(this)
      self[name] = async (...args: unknown[]) => {
        try {
          return await write(...args)
        } catch (error) {
          this.failed(error as Error)
          throw error
        }
      }
    }
  }

  override attachResource (resource: AbstractResource): void {
    super.attachResource(resource)
    if (isSublevel(resource)) this.sublevels.add(resource)
  }

  override detachResource (resource: AbstractResource): void {
    super.detachResource(resource)
    // A reopen closes every sublevel; remember those until they are opened again.
    if (this.recovering === undefined) this.sublevels.delete(resource)
  }

  /**
   * Resolves once the index may be written: at once while no write has failed; after a failed
   * one, once it has been reopened. Throws {@link DiskFullError} while there is too little
   * space to reopen it, or the reopen's error.
   */
  async ensureWritable (): Promise<void> {
    if (this.writeFailure === undefined) return
    this.recovering ??= this.recover().finally(() => { this.recovering = undefined })
    await this.recovering
  }

  /** Stops recovery attempts: the owner is closing the database for good. */
  retire (): void {
    this.retired = true
    clearInterval(this.retryTimer)
  }

  private failed (error: Error): void {
    if (this.writeFailure !== undefined || this.retired) return
    this.writeFailure = error
    this.log.error('index write failed; refusing writes until the index is reopened', { error: error.message, diskFull: isDiskFull(error) })
    // Recover by itself once space is freed, even if no client writes meanwhile.
    this.retryTimer = setInterval(() => { void this.ensureWritable().catch(() => {}) }, INDEX_RECOVERY_RETRY_MS)
    this.retryTimer.unref()
  }

  private refusal (): Error {
    const cause = this.writeFailure
    return isDiskFull(cause)
      ? new DiskFullError(`the index of ${this.location} cannot be written: no space left on the disk; free some space (the node recovers by itself)`, { cause })
      : new IndexWriteError(`the index of ${this.location} failed a write (${cause?.message ?? 'unknown error'}); writes resume once it has been reopened`, { cause })
  }

  private async recover (): Promise<void> {
    if (this.retired) throw this.refusal()
    const free = await freeBytes(this.location)
    if (free < INDEX_RECOVERY_FREE_BYTES) throw this.refusal()
    const sublevels = [...this.sublevels]
    if (this.status === 'open') await this.close()
    try {
      await this.open()
      await Promise.all(sublevels.map(async (sublevel) => { await (sublevel as unknown as { open: () => Promise<void> }).open() }))
    } catch (error) {
      throw diskFullOr(error, `cannot reopen the index of ${this.location}`)
    }
    this.log.info('index reopened after a failed write; writes resume', { free })
    this.writeFailure = undefined
    clearInterval(this.retryTimer)
  }
}

function isSublevel (resource: AbstractResource): boolean {
  const r = resource as { open?: unknown, prefix?: unknown }
  return typeof r.open === 'function' && typeof r.prefix === 'string'
}

/** Bytes free for an unprivileged writer on the disk holding `path` (Infinity if unknown). */
export async function freeBytes (path: string): Promise<number> {
  try {
    const s = await statfs(path)
    return s.bavail * s.bsize
  } catch {
    return Infinity
  }
}

/**
 * Reads one key of the index. While the database is open the read is synchronous: a point lookup
 * in LevelDB's block cache takes microseconds, while `get()` pays a thread-pool round trip for
 * every call, which dominated small RPCs (bench case `rpc`). Otherwise (opening, reopening after
 * a failed write) it waits like `get()`.
 */
export async function indexGet (sublevel: Sublevel, key: string): Promise<Buffer | undefined> {
  if (sublevel.status === 'open') return sublevel.getSync(key)
  return await sublevel.get(key)
}

/**
 * Reads several keys of the index, in order: synchronously (as {@link indexGet}) up to
 * {@link SYNC_INDEX_LOOKUP_MAX} keys, so that no call holds the event loop for long, with
 * `getMany()` beyond that. A large read is sorted, so LevelDB walks its tables in order
 * (neighbouring keys share tables and blocks), and split into up to {@link INDEX_LOOKUP_SLICES}
 * ranges of at least {@link INDEX_LOOKUP_SLICE_MIN} keys read at once on the thread pool.
 */
export async function indexGetMany (sublevel: Sublevel, keys: string[]): Promise<Array<Buffer | undefined>> {
  if (sublevel.status === 'open' && keys.length <= SYNC_INDEX_LOOKUP_MAX) return keys.map((key) => sublevel.getSync(key))
  if (keys.length < 2 * INDEX_LOOKUP_SLICE_MIN) return await sublevel.getMany(keys)
  // Hex digests and the like: code-unit order is LevelDB's byte order.
  const sorted = [...new Set(keys)].sort()
  const slices = Math.min(INDEX_LOOKUP_SLICES, Math.floor(sorted.length / INDEX_LOOKUP_SLICE_MIN))
  const size = Math.ceil(sorted.length / slices)
  const parts = await Promise.all(Array.from({ length: slices }, async (_, i) => await sublevel.getMany(sorted.slice(i * size, (i + 1) * size))))
  const found = new Map<string, Buffer | undefined>()
  parts.forEach((values, i) => { values.forEach((value, j) => { found.set(sorted[i * size + j]!, value) }) })
  return keys.map((key) => found.get(key))
}

/** The LevelDB database behind a data dir and its sublevels. */
export interface IndexDb {
  readonly db: IndexLevel
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
export async function openIndexDb (location: string, log?: Logger): Promise<IndexDb> {
  const db = new IndexLevel(location, log)
  try {
    await db.open()
  } catch (error) {
    const cause = (error as Error).cause as Error | undefined
    if (/lock/i.test(cause?.message ?? '') || /lock/i.test((error as Error).message)) {
      throw new DataDirLockedError(`the index at ${location} is locked: another peercas is using this data dir`, { cause: error })
    }
    // LevelDB replays its log into a new table at open, which needs room on the disk.
    const free = await freeBytes(location)
    const space = free < INDEX_RECOVERY_FREE_BYTES || isDiskFull(error)
      ? `; only ${(free / 1024 / 1024).toFixed(1)} MiB are free on its disk, and opening it needs room to rewrite its log: free some space and start again`
      : ''
    throw new IndexOpenError(`cannot open the index at ${location}: ${cause?.message ?? (error as Error).message}${space}`, { cause: error })
  }
  const sub = (name: string): Sublevel =>
    db.sublevel<string, Buffer>(name, { keyEncoding: 'utf8', valueEncoding: 'buffer' }) as Sublevel
  return { db, blobs: sub('blob'), inlineData: sub('data'), lru: sub('lru'), actions: sub('ac'), actionTimes: sub('act'), meta: sub('meta') }
}

import { createReadStream } from 'node:fs'
import { chmod, copyFile, link, mkdir, open, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises'
import { createHash, randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { silentLogger, type Logger } from '../log/logger.js'
import { BlobWriter, type BlobWriterHost, type VerifiedBytes } from './blob-writer.js'
import {
  ACCESS_TIME_FLUSH_INTERVAL_MS, ACCESS_TIME_GRANULARITY_MS, DEFAULT_HIGH_WATERMARK,
  DEFAULT_INLINE_THRESHOLD_BYTES, DEFAULT_LOW_WATERMARK, FILE_CHUNK_BYTES, KNOWN_BLOB_ENTRIES, KNOWN_INLINE_BYTES, QUARANTINE_MAX_FILES, RECENT_WRITE_PROTECTION_MS
} from './constants.js'
import { digestOf, isEmptyDigest, type Digest } from './digest.js'
import { BlobTooLargeError, DigestMismatchError, StoreClosedError, diskFullOr } from './errors.js'
import { accessKey, decodeMeta, encodeMeta, indexGet, indexGetMany, openIndexDb, type BlobMeta, type IndexDb, type IndexOp, type StoreTotals, type Sublevel, writeBatch } from './index-db.js'
import { reconcileStore } from './reconcile.js'
import { LevelNameIndex, type NameIndex } from './name-index.js'
import { AccessTimes } from './access-times.js'
import { Evictor, type EvictionResult } from './eviction.js'
import { KnownBlobs } from './known-blobs.js'
import { Scrubber, type Pace, type ScrubStats } from './scrubber.js'
import type { BlobCatalog, BlobFile, BlobReader, BlobSink, EvictionGuards, InlineBlob, ReadRange, StoreStats, StoreStop, SublevelProvider } from './index.js'

/** Options of {@link LocalStore.open}. */
export interface LocalStoreInit {
  /** Directory holding `cas/`, `tmp/` and `index/`. */
  dataDir: string
  /** Quota for blob bytes. */
  maxSizeBytes: number
  /** @default 16384 ({@link DEFAULT_INLINE_THRESHOLD_BYTES}) */
  inlineThresholdBytes?: number
  /** @default 0.95 */
  highWatermark?: number
  /** @default 0.85 */
  lowWatermark?: number
  /** fsync blob files before they become visible (survives power loss, costs write speed). @default false */
  fsync?: boolean
  /** Blobs accessed this recently are evicted only if the store is over its full quota. @default 60000 */
  recentProtectionMs?: number
  /**
   * Bytes per second the background scrubber hashes blob files at (see {@link Scrubber});
   * 0 turns it off. The node sets it from `store.scrubRate` (default 50MB). @default 0
   */
  scrubRateBytesPerSec?: number
  /** Time from the start of one scrub pass to the next. @default 86400000 */
  scrubPassIntervalMs?: number
  /** Wait before the first scrub pass. @default 120000 */
  scrubStartDelayMs?: number
  logger?: Logger
}

const STATS_KEY = 'stats'
const DIRTY_KEY = 'dirty'

/**
 * The local content-addressable store: small blobs inline in LevelDB, large blobs as files
 * sharded by hash under `cas/`, an index of size and last access in LevelDB, and the action
 * cache in the same database. Eviction ({@link Evictor}) and access-time batching
 * ({@link AccessTimes}) are their own modules.
 */
export class LocalStore implements BlobReader, BlobSink, BlobCatalog, SublevelProvider, EvictionGuards, BlobWriterHost {
  /** Named results (action results…), namespaced by kind and instance name. */
  readonly names: NameIndex
  readonly tempDir: string
  readonly inlineThresholdBytes: number
  readonly fsync: boolean
  private readonly casDir: string
  private readonly quarantineDir: string
  private readonly quota: number
  private readonly high: number
  private readonly low: number
  private readonly log: Logger
  private readonly totals: StoreTotals
  private readonly accessTimes: AccessTimes
  private readonly evictor: Evictor
  private readonly commitLocks = new Map<string, Promise<void>>()
  /** Unfinished writers and the bytes each has put in its temp file. */
  private readonly writers = new Map<BlobWriter, number>()
  private tempBytes = 0
  private readonly knownShards = new Set<string>()
  private readonly addedListeners: Array<(digest: Digest) => void> = []
  /**
   * File blobs whose bytes were hashed since the store opened (or written, verified, since):
   * a read of any other file blob hashes it first. Reads of these cost nothing extra.
   */
  private readonly verified = new Set<string>()
  /** See {@link BlobReader.removals}. */
  private removalCount = 0
  /** See {@link BlobCatalog.additions}. */
  private additionCount = 0
  /** See {@link BlobCatalog.session}. */
  readonly session = randomUUID()
  /** See {@link BlobCatalog.previousStop}. */
  readonly previousStop: StoreStop | undefined
  /** Removals begun whose index write has not finished. */
  private removalsInFlight = 0
  /** See {@link BlobCatalog.setMembershipFilter}. */
  private mayHold: ((hash: string) => boolean) | undefined
  /** Index entries of blobs looked up lately (see {@link KnownBlobs}). */
  private readonly known = new KnownBlobs(KNOWN_BLOB_ENTRIES, KNOWN_INLINE_BYTES)
  /** Checks of a file blob in progress, shared by concurrent first reads. */
  private readonly verifying = new Map<string, Promise<boolean>>()
  private readonly scrubber: Scrubber
  private maintenance: Promise<unknown> = Promise.resolve()
  private closed = false
  private readonly flushTimer: NodeJS.Timeout

  private constructor (private readonly index: IndexDb, init: LocalStoreInit, totals: StoreTotals, previousStop: StoreStop | undefined) {
    this.previousStop = previousStop
    this.casDir = join(init.dataDir, 'cas')
    this.quarantineDir = join(init.dataDir, 'quarantine')
    this.tempDir = join(init.dataDir, 'tmp')
    this.quota = init.maxSizeBytes
    this.inlineThresholdBytes = init.inlineThresholdBytes ?? DEFAULT_INLINE_THRESHOLD_BYTES
    this.high = init.highWatermark ?? DEFAULT_HIGH_WATERMARK
    this.low = init.lowWatermark ?? DEFAULT_LOW_WATERMARK
    this.fsync = init.fsync ?? false
    this.log = init.logger ?? silentLogger
    this.totals = totals
    this.names = new LevelNameIndex(index)
    this.accessTimes = new AccessTimes(index)
    this.evictor = new Evictor({
      index,
      totals,
      tempBytes: () => this.tempBytes,
      quotaBytes: this.quota,
      highWatermark: this.high,
      lowWatermark: this.low,
      recentProtectionMs: init.recentProtectionMs ?? RECENT_WRITE_PROTECTION_MS,
      accessTimes: this.accessTimes,
      commitLocks: this.commitLocks,
      blobPath: (hash) => this.blobPath(hash),
      exclusive: async (task) => await this.exclusive(task),
      onEvicted: (hash) => {
        this.beginRemoval(hash)
        this.verified.delete(hash)
      },
      afterEvicted: (hashes) => { for (const hash of hashes) this.endRemoval(hash) },
      logger: this.log
    })
    this.scrubber = new Scrubber({
      rateBytesPerSec: init.scrubRateBytesPerSec ?? 0,
      passIntervalMs: init.scrubPassIntervalMs,
      startDelayMs: init.scrubStartDelayMs,
      fileBlobs: async (after, limit) => await this.fileBlobs(after, limit),
      isVerified: (hash) => this.verified.has(hash),
      check: async (digest, pace, signal) => await this.scrubOne(digest, pace, signal),
      logger: this.log.child('scrub')
    })
    this.flushTimer = setInterval(() => { void this.flushAccessTimes().catch((error) => { this.log.warn('access-time flush failed', { error }) }) }, ACCESS_TIME_FLUSH_INTERVAL_MS)
    this.flushTimer.unref()
  }

  /**
   * Opens the store in `init.dataDir`, creating it if needed. After an unclean stop the index
   * and the blob files are reconciled; after a clean stop the persisted counters are used as is.
   */
  static async open (init: LocalStoreInit): Promise<LocalStore> {
    validateInit(init)
    const log = init.logger ?? silentLogger
    // Blobs and inline blobs in the index may be private build outputs: every folder is
    // owner-only (0700), whatever the umask and whatever an older version left.
    if (await makePrivateDir(init.dataDir)) {
      log.warn(`data dir ${init.dataDir} was readable by other users; made it private (0700)`, { dataDir: init.dataDir })
    }
    await makePrivateDir(join(init.dataDir, 'cas'))
    const tempDir = join(init.dataDir, 'tmp')
    await rm(tempDir, { recursive: true, force: true })
    await makePrivateDir(tempDir)
    await makePrivateDir(join(init.dataDir, 'index'))
    const index = await openIndexDb(join(init.dataDir, 'index'), log.child('index'))
    try {
      const dirty = await index.meta.get(DIRTY_KEY)
      const saved = await index.meta.get(STATS_KEY)
      let totals: StoreTotals
      let previousStop: StoreStop | undefined
      if (dirty !== undefined || saved === undefined) {
        // No clean-stop record: either a new store or a crash. Either way, check everything.
        const started = Date.now()
        const result = await reconcileStore(index, join(init.dataDir, 'cas'), log)
        totals = result.totals
        if (dirty !== undefined) log.info('reconciled store after an unclean stop', { ...result.report, ms: Date.now() - started })
      } else {
        const record = JSON.parse(saved.toString('utf8')) as StoreTotals & { stop?: Partial<StoreStop & StoreTotals> }
        totals = { blobCount: record.blobCount, totalBytes: record.totalBytes, inlineBlobCount: record.inlineBlobCount }
        previousStop = stopOf(record)
      }
      await index.meta.put(DIRTY_KEY, Buffer.from('1'))
      const store = new LocalStore(index, init, totals, previousStop)
      store.scrubber.start()
      return store
    } catch (error) {
      await index.db.close()
      throw error
    }
  }

  /**
   * Calls `listener` after each blob becomes visible in the store, whoever wrote it (clients,
   * peer fetches, central read-through). Used for peer announcements.
   */
  onBlobAdded (listener: (digest: Digest) => void): void {
    this.addedListeners.push(listener)
  }

  /**
   * Registers a guard consulted by eviction: while `guard(hash)` is true the blob stays
   * (e.g. queued for upload to the central CAS).
   */
  addEvictionGuard (guard: (hash: string) => boolean): void {
    this.evictor.addGuard(guard)
  }

  /**
   * A private sublevel of the index database for another component's durable state (the
   * upload queue, peer bookkeeping). Writes to it are crash-safe like the index itself.
   */
  sublevel (name: string): Sublevel {
    if (['blob', 'data', 'lru', 'ac', 'act', 'acs', 'meta'].includes(name) || name.startsWith('name:') || name.startsWith('name-time:') || name.startsWith('name-sig:')) throw new RangeError(`sublevel name ${name} is reserved by the store`)
    return this.index.db.sublevel<string, Buffer>(name, { keyEncoding: 'utf8', valueEncoding: 'buffer' }) as Sublevel
  }

  /**
   * Iterates over every stored blob's digest (for availability summaries and sync), or only
   * those written or used since `accessedSince` (ms). Reads the index in batches; never whole.
   */
  async * digests ({ accessedSince = 0 }: { accessedSince?: number } = {}): AsyncGenerator<Digest> {
    for await (const [hash, value] of this.index.blobs.iterator()) {
      const meta = decodeMeta(value)
      // Access times are recorded with a granularity of a minute (and flushed lazily).
      if (accessedSince > 0 && meta.accessedAt < accessedSince - ACCESS_TIME_GRANULARITY_MS) continue
      yield { hash, sizeBytes: meta.sizeBytes }
    }
  }

  /** Counters of blobs and bytes held. */
  stats (): StoreStats {
    return {
      blobCount: this.totals.blobCount,
      totalBytes: this.totals.totalBytes,
      inlineBlobCount: this.totals.inlineBlobCount,
      fileBlobCount: this.totals.blobCount - this.totals.inlineBlobCount,
      tempBytes: this.tempBytes,
      quotaBytes: this.quota,
      highWatermark: this.high,
      lowWatermark: this.low
    }
  }

  /** What the background scrubber has checked and found since the store opened. */
  scrubStats (): ScrubStats {
    return { ...this.scrubber.stats }
  }

  /** Blobs and bytes evicted since the store opened. */
  evictedTotals (): { blobs: number, bytes: number } {
    return { ...this.evictor.evicted }
  }

  /** See {@link BlobReader.removals}. */
  get removals (): number {
    return this.removalCount
  }

  /** See {@link BlobCatalog.additions}. */
  get additions (): number {
    return this.additionCount
  }

  /** See {@link BlobCatalog.setMembershipFilter}. */
  setMembershipFilter (mayHold: ((hash: string) => boolean) | undefined): void {
    this.mayHold = mayHold
  }

  /** True when the blob is stored locally (the empty blob always is). Counts as an access. */
  async has (digest: Digest): Promise<boolean> {
    return (await this.findMissing([digest])).length === 0
  }

  /** Returns the digests not stored locally, in request order. Found blobs count as accessed. */
  async findMissing (digests: readonly Digest[]): Promise<Digest[]> {
    this.assertOpen()
    const lookups = digests.filter((d) => !isEmptyDigest(d))
    if (lookups.length === 0) return []
    // Entries remembered from earlier lookups first; then hashes the membership filter rules out
    // are missing; the index for the rest, in one read.
    const metas: Array<BlobMeta | undefined> = lookups.map((d) => this.known.get(d.hash))
    const mayHold = this.mayHold
    const unknown: number[] = []
    metas.forEach((meta, i) => { if (meta === undefined && (mayHold === undefined || mayHold(lookups[i]!.hash))) unknown.push(i) })
    if (unknown.length > 0) {
      const removals = this.removalCount
      const values = await indexGetMany(this.index.blobs, unknown.map((i) => lookups[i]!.hash))
      unknown.forEach((at, j) => {
        const value = values[j]
        if (value === undefined) return
        const meta = decodeMeta(value)
        metas[at] = meta
        this.rememberLookup(lookups[at]!.hash, meta, removals)
      })
    }
    const missing: Digest[] = []
    for (let i = 0; i < lookups.length; i++) {
      const meta = metas[i]
      const digest = lookups[i]!
      if (meta === undefined || meta.sizeBytes !== digest.sizeBytes) { missing.push(digest); continue }
      this.noteAccess(digest.hash, meta)
    }
    return missing
  }

  /** Reads a whole blob into memory (meant for small blobs), or `undefined` if absent. */
  async read (digest: Digest): Promise<Buffer | undefined> {
    const blob = await this.openUnchecked(digest)
    if (blob === undefined || blob.kind === 'inline') return blob?.data
    let data: Buffer
    try {
      data = await blob.handle.readFile()
    } finally {
      await blob.close()
    }
    if (this.verified.has(digest.hash)) return data
    // First read since start: the bytes are in memory anyway, so hash them here.
    const actual = digestOf(data)
    if (actual.hash === digest.hash && actual.sizeBytes === digest.sizeBytes) {
      this.verified.add(digest.hash)
      return data
    }
    await this.quarantine(digest, describeMismatch(digest, actual.hash, actual.sizeBytes))
    return undefined
  }

  /**
   * Opens a stream over `range` of a blob, or `undefined` if absent. The blob is pinned
   * against eviction until the stream ends or is destroyed.
   */
  async openReadStream (digest: Digest, range: ReadRange = {}): Promise<Readable | undefined> {
    this.assertOpen()
    const offset = range.offset ?? 0
    const end = range.limit != null && range.limit > 0 ? Math.min(digest.sizeBytes, offset + range.limit) : digest.sizeBytes
    if (isEmptyDigest(digest)) return readableOf(Buffer.alloc(0))
    const meta = await this.lookup(digest)
    if (meta === undefined) return undefined
    if (meta.inline) {
      const data = await this.inlineBytesOf(digest.hash)
      if (data === undefined) return undefined
      return readableOf(data.subarray(offset, end))
    }
    if (!this.verified.has(digest.hash)) {
      const file = await this.openUnchecked(digest)
      if (file === undefined) return undefined
      try {
        if (file.kind === 'file' && !(await this.checkFirstRead(digest, file.handle))) return undefined
      } finally {
        if (file.kind === 'file') await file.close()
      }
    }
    if (offset >= end) return readableOf(Buffer.alloc(0))
    this.evictor.pin(digest.hash)
    const stream = createReadStream(this.blobPath(digest.hash), { start: offset, end: end - 1, highWaterMark: FILE_CHUNK_BYTES })
    stream.once('close', () => { this.evictor.unpin(digest.hash) })
    try {
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => { resolve() })
        stream.once('error', reject)
      })
    } catch (error) {
      stream.destroy()
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      await this.dropVanished(digest.hash)
      return undefined
    }
    return stream
  }

  /**
   * Opens a blob for reading with one index lookup: an inline blob's bytes, or its file, pinned
   * against eviction until `close()`; `undefined` when absent. For readers that fill their own
   * buffers (ByteStream.Read encodes straight into them).
   */
  async openBlob (digest: Digest): Promise<BlobFile | InlineBlob | undefined> {
    const blob = await this.openUnchecked(digest)
    if (blob?.kind !== 'file' || this.verified.has(digest.hash)) return blob
    let good = false
    try {
      good = await this.checkFirstRead(digest, blob.handle)
    } finally {
      if (!good) await blob.close()
    }
    return good ? blob : undefined
  }

  /**
   * Hashes a stored blob's file again, even if it was verified since start (a reader saw its
   * bytes not match): a bad file is quarantined. True when the blob is stored and sound.
   */
  async recheck (digest: Digest): Promise<boolean> {
    const blob = await this.openUnchecked(digest)
    if (blob === undefined) return false
    if (blob.kind === 'inline') return digestOf(blob.data).hash === digest.hash
    try {
      this.verified.delete(digest.hash)
      return await this.checkFile(digest, blob.handle)
    } finally {
      await blob.close()
    }
  }

  /** {@link openBlob} without the first-read check of a file blob's bytes. */
  private async openUnchecked (digest: Digest): Promise<BlobFile | InlineBlob | undefined> {
    this.assertOpen()
    if (isEmptyDigest(digest)) return { kind: 'inline', data: Buffer.alloc(0) }
    const meta = await this.lookup(digest)
    if (meta === undefined) return undefined
    if (meta.inline) {
      const data = await this.inlineBytesOf(digest.hash)
      return data === undefined ? undefined : { kind: 'inline', data }
    }
    this.evictor.pin(digest.hash)
    try {
      const handle = await open(this.blobPath(digest.hash), 'r')
      let closed = false
      return {
        kind: 'file',
        handle,
        sizeBytes: meta.sizeBytes,
        close: async () => {
          if (closed) return
          closed = true
          this.evictor.unpin(digest.hash)
          await handle.close()
        }
      }
    } catch (error) {
      this.evictor.unpin(digest.hash)
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      await this.dropVanished(digest.hash)
      return undefined
    }
  }

  /** Stores bytes held in memory after checking them against `digest`. */
  async put (digest: Digest, data: Buffer): Promise<void> {
    this.assertOpen()
    const actual = digestOf(data)
    if (actual.hash !== digest.hash || actual.sizeBytes !== digest.sizeBytes) {
      throw new DigestMismatchError(digest, actual.hash, actual.sizeBytes)
    }
    await this.storeVerified(digest, data)
  }

  /**
   * Stores a blob whose bytes are already in a file (a swarm fetch's assembled pieces) without
   * writing them again: the file is hard-linked into the store's temp dir (copied where the file
   * system cannot link), hashed there, and committed only if it matches `digest`; otherwise
   * DigestMismatchError and nothing is stored. The caller keeps `path` and may delete it, but
   * must not write to it any more.
   */
  async adoptFile (digest: Digest, path: string): Promise<void> {
    this.assertOpen()
    if (isEmptyDigest(digest)) return
    const tempPath = join(this.tempDir, `${digest.hash}.${randomUUID()}`)
    try {
      await link(path, tempPath).catch(async () => { await copyFile(path, tempPath) })
      // Blob files are the owner's alone, whatever mode the caller's file had.
      await chmod(tempPath, 0o600)
      const handle = await open(tempPath, 'r')
      try {
        const { size } = await handle.stat()
        const hashed = size === digest.sizeBytes ? await hashFile(handle, size) : ''
        if (hashed !== digest.hash) throw new DigestMismatchError(digest, typeof hashed === 'string' ? hashed : '', typeof hashed === 'number' ? hashed : size)
        if (this.fsync) await handle.sync()
      } finally {
        await handle.close()
      }
    } catch (error) {
      await rm(tempPath, { force: true })
      throw error instanceof DigestMismatchError ? error : diskFullOr(error, `cannot store blob ${digest.hash}`)
    }
    await this.commitVerified(digest, { kind: 'file', tempPath })
  }

  /** Stores in-memory bytes already checked against `digest`. */
  private async storeVerified (digest: Digest, data: Buffer): Promise<void> {
    this.assertOpen()
    if (isEmptyDigest(digest)) return
    if (digest.sizeBytes <= this.inlineThresholdBytes) {
      await this.commitVerified(digest, { kind: 'inline', data })
      return
    }
    const tempPath = join(this.tempDir, `${digest.hash}.${randomUUID()}`)
    try {
      await writeFile(tempPath, data, { flag: 'wx', mode: 0o600, flush: this.fsync })
    } catch (error) {
      await rm(tempPath, { force: true })
      throw diskFullOr(error, `cannot write blob ${digest.hash}`)
    }
    await this.commitVerified(digest, { kind: 'file', tempPath })
  }

  /**
   * Stores many in-memory blobs, each checked against its digest. Small (inline) blobs are
   * looked up and written with one index read and one atomic index batch for the whole call
   * instead of one each; large ones are stored one by one (each hashed only once). Resolves with one entry per
   * blob, in order: `undefined` when it is stored, else the error that kept it out.
   */
  async putMany (blobs: ReadonlyArray<{ readonly digest: Digest, readonly data: Buffer }>): Promise<Array<Error | undefined>> {
    this.assertOpen()
    const results = new Array<Error | undefined>(blobs.length).fill(undefined)
    const inline = new Map<string, { digest: Digest, data: Buffer, slots: number[] }>()
    const separate: number[] = []
    blobs.forEach(({ digest, data }, i) => {
      const actual = digestOf(data)
      if (actual.hash !== digest.hash || actual.sizeBytes !== digest.sizeBytes) {
        results[i] = new DigestMismatchError(digest, actual.hash, actual.sizeBytes)
      } else if (isEmptyDigest(digest)) {
        // Always present.
      } else if (digest.sizeBytes <= this.inlineThresholdBytes && digest.sizeBytes <= this.quota && !this.commitLocks.has(digest.hash)) {
        const entry = inline.get(digest.hash)
        if (entry === undefined) inline.set(digest.hash, { digest, data, slots: [i] }); else entry.slots.push(i)
      } else {
        separate.push(i)
      }
    })
    await Promise.all([
      this.commitInlineMany([...inline.values()]).catch((error: Error) => {
        for (const entry of inline.values()) for (const i of entry.slots) results[i] = error
      }),
      ...separate.map(async (i) => {
        try { await this.storeVerified(blobs[i]!.digest, blobs[i]!.data) } catch (error) { results[i] = error as Error }
      })
    ])
    return results
  }

  /** Starts a streaming write of one blob; nothing is visible until `commit()` verifies it. */
  createWriter (digest: Digest): BlobWriter {
    this.assertOpen()
    if (digest.sizeBytes > this.quota) throw new BlobTooLargeError(digest, this.quota)
    const writer = new BlobWriter(digest, this)
    this.writers.set(writer, 0)
    return writer
  }

  /** @internal Called by a writer once its bytes are verified. */
  async commitVerified (digest: Digest, bytes: VerifiedBytes): Promise<void> {
    if (isEmptyDigest(digest)) {
      if (bytes.kind === 'file') await rm(bytes.tempPath, { force: true })
      return
    }
    if (digest.sizeBytes > this.quota) {
      if (bytes.kind === 'file') await rm(bytes.tempPath, { force: true })
      throw new BlobTooLargeError(digest, this.quota)
    }
    // One commit per hash at a time, so concurrent writers of one digest store it once.
    const previous = this.commitLocks.get(digest.hash) ?? Promise.resolve()
    const current = previous.then(async () => { await this.commitOnce(digest, bytes) })
    const tail = current.catch(() => {})
    this.commitLocks.set(digest.hash, tail)
    try {
      await current
    } finally {
      if (this.commitLocks.get(digest.hash) === tail) this.commitLocks.delete(digest.hash)
    }
  }

  /** @internal Called by a writer when it commits or aborts. */
  writerFinished (writer: BlobWriter): void {
    const counted = this.writers.get(writer)
    if (counted === undefined) return
    this.tempBytes -= counted
    this.writers.delete(writer)
  }

  /** @internal Called by a writer as its temp file grows; may start an eviction pass. */
  tempBytesAdded (writer: BlobWriter, bytes: number): void {
    const counted = this.writers.get(writer)
    if (counted === undefined) return
    this.writers.set(writer, counted + bytes)
    this.tempBytes += bytes
    this.evictor.maybeEvict()
  }

  /**
   * Evicts least-recently-used blobs until the store holds at most `targetBytes`
   * (default: the low watermark). Pinned blobs are skipped; recently used ones too unless the
   * store is over its full quota.
   */
  async evict (targetBytes?: number): Promise<EvictionResult> {
    return await this.evictor.evict(targetBytes)
  }

  /** Writes pending access times to the index. */
  async flushAccessTimes (): Promise<void> {
    if (this.accessTimes.size === 0 || this.closed) return
    await this.exclusive(async () => { await this.accessTimes.flush() })
  }

  /** Aborts in-flight writes, persists counters and closes the index. */
  async close (): Promise<void> {
    if (this.closed) return
    clearInterval(this.flushTimer)
    await this.scrubber.stop()
    await Promise.all([...this.writers.keys()].map(async (w) => { await w.abort() }))
    await Promise.all([...this.commitLocks.values()])
    // A full or failing disk must not turn a stop into a crash: without the clean-stop record
    // the next start checks the store (reconcile), which loses nothing acknowledged.
    await this.exclusive(async () => { await this.accessTimes.flush() }).catch((error: unknown) => {
      this.log.warn('cannot save access times at stop', { error })
    })
    this.closed = true
    try {
      await this.index.db.ensureWritable()
      // The totals again inside `stop`: an older version keeps fields it does not know when it
      // writes this record back, but the totals it updates then no longer match these.
      const stop: StoreStop & StoreTotals = { session: this.session, additions: this.additionCount, removals: this.removalCount, ...this.totals }
      await this.index.meta.put(STATS_KEY, Buffer.from(JSON.stringify({ ...this.totals, stop })))
      await this.index.meta.del(DIRTY_KEY)
    } catch (error) {
      this.log.warn('cannot record a clean stop in the index; the next start will check the store', { error })
    }
    this.index.db.retire()
    await this.index.db.close()
  }

  private async commitOnce (digest: Digest, bytes: VerifiedBytes): Promise<void> {
    this.assertOpen()
    const existing = await this.lookup(digest)
    if (existing !== undefined) {
      if (bytes.kind === 'file') await rm(bytes.tempPath, { force: true })
      return
    }
    const now = Date.now()
    const meta: BlobMeta = { sizeBytes: digest.sizeBytes, accessedAt: now, inline: bytes.kind === 'inline' }
    const ops: IndexOp[] = [
      { type: 'put', sublevel: this.index.blobs, key: digest.hash, value: encodeMeta(meta) },
      { type: 'put', sublevel: this.index.lru, key: accessKey(now, digest.hash), value: Buffer.alloc(0) }
    ]
    if (bytes.kind === 'inline') {
      ops.push({ type: 'put', sublevel: this.index.inlineData, key: digest.hash, value: bytes.data })
    } else {
      const shard = digest.hash.slice(0, 2)
      if (!this.knownShards.has(shard)) {
        await mkdir(join(this.casDir, shard), { recursive: true, mode: 0o700 }).catch((error: unknown) => { throw diskFullOr(error, `cannot write blob ${digest.hash}`) })
        this.knownShards.add(shard)
      }
      // Rename first: a crash before the index write leaves a verified file that the next
      // start adopts; never an index entry without its bytes.
      await rename(bytes.tempPath, this.blobPath(digest.hash))
      this.verified.add(digest.hash)
    }
    await writeBatch(this.index, ops)
    this.totals.blobCount += 1
    this.totals.totalBytes += digest.sizeBytes
    if (meta.inline) this.totals.inlineBlobCount += 1
    this.additionCount += 1
    for (const listener of this.addedListeners) {
      try { listener(digest) } catch (error) { this.log.warn('blob-added listener failed', { error }) }
    }
    this.evictor.maybeEvict()
  }

  /**
   * Commits verified inline blobs (distinct hashes, none with a commit in progress) with one
   * index lookup and one batch. Holds each hash's commit lock meanwhile, like {@link commitOnce}.
   */
  private async commitInlineMany (blobs: ReadonlyArray<{ digest: Digest, data: Buffer }>): Promise<void> {
    if (blobs.length === 0) return
    let release!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    for (const { digest } of blobs) this.commitLocks.set(digest.hash, held)
    try {
      this.assertOpen()
      const existing = await this.index.blobs.getMany(blobs.map((b) => b.digest.hash))
      const now = Date.now()
      const ops: IndexOp[] = []
      const added: Digest[] = []
      let addedBytes = 0
      const empty = Buffer.alloc(0)
      blobs.forEach(({ digest, data }, i) => {
        const value = existing[i]
        if (value !== undefined) {
          const meta = decodeMeta(value)
          if (meta.sizeBytes === digest.sizeBytes) { this.accessTimes.note(digest.hash, meta); return }
        }
        const meta: BlobMeta = { sizeBytes: digest.sizeBytes, accessedAt: now, inline: true }
        ops.push(
          { type: 'put', sublevel: this.index.blobs, key: digest.hash, value: encodeMeta(meta) },
          { type: 'put', sublevel: this.index.lru, key: accessKey(now, digest.hash), value: empty },
          { type: 'put', sublevel: this.index.inlineData, key: digest.hash, value: data }
        )
        added.push(digest)
        addedBytes += digest.sizeBytes
      })
      await writeBatch(this.index, ops)
      this.totals.blobCount += added.length
      this.totals.totalBytes += addedBytes
      this.totals.inlineBlobCount += added.length
      this.additionCount += added.length
      for (const digest of added) {
        for (const listener of this.addedListeners) {
          try { listener(digest) } catch (error) { this.log.warn('blob-added listener failed', { error }) }
        }
      }
      if (added.length > 0) this.evictor.maybeEvict()
    } finally {
      for (const { digest } of blobs) if (this.commitLocks.get(digest.hash) === held) this.commitLocks.delete(digest.hash)
      release()
    }
  }

  private async lookup (digest: Digest): Promise<BlobMeta | undefined> {
    let meta = this.known.get(digest.hash)
    if (meta === undefined) {
      const removals = this.removalCount
      const value = await indexGet(this.index.blobs, digest.hash)
      if (value === undefined) return undefined
      meta = decodeMeta(value)
      this.rememberLookup(digest.hash, meta, removals)
    }
    if (meta.sizeBytes !== digest.sizeBytes) return undefined
    this.noteAccess(digest.hash, meta)
    return meta
  }

  /** The bytes of a stored inline blob, from memory when read lately (see {@link KnownBlobs}). */
  private async inlineBytesOf (hash: string): Promise<Buffer | undefined> {
    const known = this.known.inline(hash)
    if (known !== undefined) return known
    const removals = this.removalCount
    const data = await indexGet(this.index.inlineData, hash)
    if (data !== undefined && this.noRemovalSince(removals)) this.known.rememberInline(hash, data)
    return data
  }

  /** Notes a read of a stored blob for the LRU order (see {@link AccessTimes.note}). */
  private noteAccess (hash: string, meta: BlobMeta): void {
    if (this.accessTimes.note(hash, meta)) {
      // The pending write moves it to now: a remembered entry must not note it again.
      const known = this.known.get(hash)
      if (known !== undefined) known.accessedAt = Date.now()
    }
  }

  /** Remembers an index entry read since `removals` was read, if {@link noRemovalSince}. */
  private rememberLookup (hash: string, meta: BlobMeta, removals: number): void {
    if (this.noRemovalSince(removals)) this.known.remember(hash, meta)
  }

  /**
   * True when no removal began since the removal count was `removals` and none is still being
   * written: only then may what was read from the index meanwhile be remembered (else it may be
   * an entry a removal is deleting).
   */
  private noRemovalSince (removals: number): boolean {
    return this.removalsInFlight === 0 && this.removalCount === removals
  }

  /** Marks the start of a blob's removal from the index (see {@link BlobReader.removals}). */
  private beginRemoval (hash: string): void {
    this.removalCount++
    this.removalsInFlight++
    this.known.forget(hash)
  }

  /** Marks the end of the index write of a removal begun with {@link beginRemoval}. */
  private endRemoval (hash: string): void {
    this.removalsInFlight--
    this.known.forget(hash)
  }

  /** A blob file disappeared from under the index (deleted by hand): forget it. */
  private async dropVanished (hash: string): Promise<void> {
    this.log.warn('blob file vanished; dropping it from the index', { hash })
    await this.exclusive(async () => {
      const value = await this.index.blobs.get(hash)
      if (value === undefined) return
      const current = decodeMeta(value)
      // The file may have been committed again since the failed read: keep it then.
      if (current.inline || await stat(this.blobPath(hash)).then(() => true, () => false)) return
      this.beginRemoval(hash)
      try {
        await writeBatch(this.index, [
          { type: 'del', sublevel: this.index.blobs, key: hash },
          { type: 'del', sublevel: this.index.lru, key: accessKey(current.accessedAt, hash) }
        ])
      } finally {
        this.endRemoval(hash)
      }
      this.accessTimes.forget(hash)
      this.verified.delete(hash)
      this.totals.blobCount -= 1
      this.totals.totalBytes -= current.sizeBytes
    })
  }

  /**
   * The first read of a file blob since start: its bytes are hashed before any is served
   * (concurrent first reads share one check). A file that is short, long or does not hash to
   * its name is quarantined and the read finds nothing (the tiers can fetch it again).
   */
  private async checkFirstRead (digest: Digest, handle: FileHandle): Promise<boolean> {
    if (this.verified.has(digest.hash)) return true
    let pending = this.verifying.get(digest.hash)
    if (pending === undefined) {
      pending = this.checkFile(digest, handle).finally(() => { this.verifying.delete(digest.hash) })
      this.verifying.set(digest.hash, pending)
    }
    return await pending
  }

  /** Hashes an open blob file (reads paced by `pace`); quarantines it if it does not match. */
  private async checkFile (digest: Digest, handle: FileHandle, pace?: Pace, signal?: AbortSignal): Promise<boolean> {
    const problem = await fileMismatch(digest, handle, pace, signal)
    if (problem === undefined) {
      this.verified.add(digest.hash)
      return true
    }
    await this.quarantine(digest, problem)
    return false
  }

  /** The scrubber's check of one blob: hashed again even if verified before. */
  private async scrubOne (digest: Digest, pace: Pace, signal: AbortSignal): Promise<boolean> {
    if (this.closed) return true
    const file = await this.openUnchecked(digest)
    if (file?.kind !== 'file') return true
    try {
      this.verified.delete(digest.hash)
      return await this.checkFile(digest, file.handle, pace, signal)
    } finally {
      await file.close()
    }
  }

  /** The file blobs among the `limit` index entries after `after`, and the last key read (for the scrubber). */
  private async fileBlobs (after: string | undefined, limit: number): Promise<{ blobs: Digest[], last: string | undefined }> {
    if (this.closed) return { blobs: [], last: undefined }
    const blobs: Digest[] = []
    let last: string | undefined
    const entries = this.index.blobs.iterator(after === undefined ? { limit } : { gt: after, limit })
    try {
      for (const [hash, value] of await entries.nextv(limit)) {
        last = hash
        const meta = decodeMeta(value)
        if (!meta.inline) blobs.push({ hash, sizeBytes: meta.sizeBytes })
      }
    } finally {
      await entries.close()
    }
    return { blobs, last }
  }

  /**
   * Moves a blob file whose bytes do not match its digest to `<dataDir>/quarantine` (for
   * inspection; the newest {@link QUARANTINE_MAX_FILES} are kept) and drops its index entry,
   * so the blob is missing here and the next read fetches it from a tier.
   */
  private async quarantine (digest: Digest, problem: string): Promise<void> {
    const hash = digest.hash
    this.verified.delete(hash)
    await this.exclusive(async () => {
      // Hold the hash's commit lock: a commit of the good bytes waits until the bad file is gone.
      const previous = this.commitLocks.get(hash) ?? Promise.resolve()
      const done = Promise.withResolvers<void>()
      const lock = previous.then(async () => { await done.promise })
      this.commitLocks.set(hash, lock)
      try {
        await previous
        const value = await this.index.blobs.get(hash)
        if (value === undefined) return
        const meta = decodeMeta(value)
        if (meta.inline) return
        await mkdir(this.quarantineDir, { recursive: true, mode: 0o700 })
        const target = join(this.quarantineDir, `${Date.now()}-${hash}`)
        this.beginRemoval(hash)
        try {
          await rename(this.blobPath(hash), target).catch((error: NodeJS.ErrnoException) => { if (error.code !== 'ENOENT') throw error })
          await writeBatch(this.index, [
            { type: 'del', sublevel: this.index.blobs, key: hash },
            { type: 'del', sublevel: this.index.lru, key: accessKey(meta.accessedAt, hash) }
          ])
        } finally {
          this.endRemoval(hash)
        }
        this.accessTimes.forget(hash)
        this.totals.blobCount -= 1
        this.totals.totalBytes -= meta.sizeBytes
        this.log.warn('blob file does not match its digest; quarantined (the next read fetches it again from a tier)', { hash, sizeBytes: digest.sizeBytes, problem, path: target })
        const kept = (await readdir(this.quarantineDir)).sort()
        for (const name of kept.slice(0, Math.max(0, kept.length - QUARANTINE_MAX_FILES))) await rm(join(this.quarantineDir, name), { force: true })
      } finally {
        done.resolve()
        if (this.commitLocks.get(hash) === lock) this.commitLocks.delete(hash)
      }
    })
  }

  private async exclusive<T> (task: () => Promise<T>): Promise<T> {
    const run = this.maintenance.then(task, task)
    this.maintenance = run.catch(() => {})
    return await run
  }

  private blobPath (hash: string): string {
    return join(this.casDir, hash.slice(0, 2), hash)
  }

  private assertOpen (): void {
    if (this.closed) throw new StoreClosedError()
  }
}

/**
 * The {@link StoreStop} of a clean-stop record, if it has one that this version wrote at that stop
 * (its totals unchanged since).
 */
function stopOf (record: StoreTotals & { stop?: Partial<StoreStop & StoreTotals> }): StoreStop | undefined {
  const stop = record.stop
  if (stop === undefined || typeof stop.session !== 'string' || !Number.isInteger(stop.additions) || !Number.isInteger(stop.removals)) return undefined
  if (stop.blobCount !== record.blobCount || stop.totalBytes !== record.totalBytes || stop.inlineBlobCount !== record.inlineBlobCount) return undefined
  return { session: stop.session, additions: stop.additions!, removals: stop.removals! }
}

/**
 * Creates `dir` (and its parents) owner-only, or makes an existing one owner-only. Resolves
 * true when an existing `dir` was open to group or others (the caller may say so).
 */
async function makePrivateDir (dir: string): Promise<boolean> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  // mkdir leaves an existing folder's mode as it was: check it.
  if (((await stat(dir)).mode & 0o077) === 0) return false
  await chmod(dir, 0o700)
  return true
}

/**
 * Why an open blob file does not hold `digest`'s bytes (wrong length or hash), or `undefined`
 * when it does. Reads in {@link FILE_CHUNK_BYTES} chunks, each after `pace` allows it.
 */
async function fileMismatch (digest: Digest, handle: FileHandle, pace?: Pace, signal?: AbortSignal): Promise<string | undefined> {
  const { size } = await handle.stat()
  if (size !== digest.sizeBytes) return `the file has ${size} bytes, expected ${digest.sizeBytes}`
  const hashed = await hashFile(handle, size, pace, signal)
  if (typeof hashed === 'number') return `the file ended at ${hashed} of ${size} bytes`
  return hashed === digest.hash ? undefined : `the file's bytes hash to ${hashed}`
}

/** The SHA-256 (hex) of the first `size` bytes of a file, or the offset where it ended before them. */
async function hashFile (handle: FileHandle, size: number, pace?: Pace, signal?: AbortSignal): Promise<string | number> {
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(Math.min(FILE_CHUNK_BYTES, Math.max(1, size)))
  for (let at = 0; at < size;) {
    signal?.throwIfAborted()
    const want = Math.min(buffer.byteLength, size - at)
    if (pace !== undefined) await pace(want)
    const { bytesRead } = await handle.read(buffer, 0, want, at)
    if (bytesRead === 0) return at
    hash.update(buffer.subarray(0, bytesRead))
    at += bytesRead
  }
  return hash.digest('hex')
}

function describeMismatch (digest: Digest, actualHash: string, actualSize: number): string {
  return actualSize !== digest.sizeBytes ? `the file has ${actualSize} bytes, expected ${digest.sizeBytes}` : `the file's bytes hash to ${actualHash}`
}

function readableOf (data: Buffer): Readable {
  return Readable.from([data], { objectMode: false })
}

function validateInit (init: LocalStoreInit): void {
  if (!(init.maxSizeBytes > 0)) throw new RangeError(`maxSizeBytes must be positive, got ${init.maxSizeBytes}`)
  const high = init.highWatermark ?? DEFAULT_HIGH_WATERMARK
  const low = init.lowWatermark ?? DEFAULT_LOW_WATERMARK
  if (!(high > 0 && high <= 1)) throw new RangeError(`highWatermark must be in (0, 1], got ${high}`)
  if (!(low > 0 && low < high)) throw new RangeError(`lowWatermark must be in (0, highWatermark), got ${low}`)
  const inline = init.inlineThresholdBytes ?? DEFAULT_INLINE_THRESHOLD_BYTES
  if (!(inline >= 0 && inline <= 4 * 1024 * 1024)) throw new RangeError(`inlineThresholdBytes must be in [0, 4 MiB], got ${inline}`)
}

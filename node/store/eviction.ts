import { rm } from 'node:fs/promises'
import type { Logger } from '../log/logger.js'
import type { AccessTimes } from './access-times.js'
import { accessKey, decodeMeta, hashOfAccessKey, type IndexDb, type IndexOp, type StoreTotals, writeBatch } from './index-db.js'

/** A background pass that left the store above its high watermark is not repeated sooner, ms. */
const EVICTION_RETRY_MS = 1000

/** Outcome of one eviction pass. */
export interface EvictionResult {
  evictedBlobs: number
  evictedBytes: number
  totalBytesAfter: number
}

/** What {@link Evictor} needs from the store it evicts from. */
export interface EvictorInit {
  index: Pick<IndexDb, 'db' | 'blobs' | 'inlineData' | 'lru'>
  /** The store's counters; the evictor decrements them as it removes blobs. */
  totals: StoreTotals
  /** Bytes in temp files of unfinished writes: they take disk space, so they count against the quota. */
  tempBytes: () => number
  quotaBytes: number
  /** Fraction of the quota above which a commit starts a pass. */
  highWatermark: number
  /** Fraction of the quota a pass evicts down to. */
  lowWatermark: number
  /** Blobs used this recently are evicted only while the store is over its whole quota. */
  recentProtectionMs: number
  accessTimes: AccessTimes
  /**
   * The store's per-hash commit locks. A hash being committed is not evicted; a victim's lock
   * is held until its file is gone, so a concurrent commit of it waits and stores it afresh.
   */
  commitLocks: Map<string, Promise<void>>
  /** Path of a (non-inline) blob's file. */
  blobPath: (hash: string) => string
  /** Runs a task after the store's other index maintenance, one at a time. */
  exclusive: <T>(task: () => Promise<T>) => Promise<T>
  /** Called for each blob a pass removes, before the removal is written. */
  onEvicted?: (hash: string) => void
  /** Called with a pass's removed blobs once their removal is written (or failed to be). */
  afterEvicted?: (hashes: readonly string[]) => void
  logger: Logger
}

/**
 * Least-recently-used eviction between watermarks of the quota, kept apart from the disk
 * layout: once the store grows past its high watermark, a pass removes the oldest blobs until
 * it is down to the low watermark. Pinned blobs (being read), guarded ones (e.g. queued for
 * upload) and ones being committed stay; recently used ones too unless the store is over its
 * whole quota.
 */
export class Evictor {
  private readonly pins = new Map<string, number>()
  private readonly guards: Array<(hash: string) => boolean> = []
  private evicting = false
  /** Blobs and bytes evicted since the store opened (read-only outside; for metrics). */
  readonly evicted = { blobs: 0, bytes: 0 }
  /**
   * No background pass before this time (ms) unless the store crosses its whole quota: the last
   * pass could not get below the watermark.
   */
  private quietUntil = 0
  private overQuotaAfterPass = false

  constructor (private readonly init: EvictorInit) {}

  /** Keeps `hash` while pinned; pins nest, each needs its own {@link Evictor.unpin}. */
  pin (hash: string): void { this.pins.set(hash, (this.pins.get(hash) ?? 0) + 1) }

  /** Releases one {@link Evictor.pin}. */
  unpin (hash: string): void {
    const count = (this.pins.get(hash) ?? 1) - 1
    if (count <= 0) this.pins.delete(hash); else this.pins.set(hash, count)
  }

  /** Keeps every blob for which `guard(hash)` is true. */
  addGuard (guard: (hash: string) => boolean): void {
    this.guards.push(guard)
  }

  /** Evicts until the store holds at most `targetBytes` (default: the low watermark). */
  async evict (targetBytes = Math.floor(this.init.quotaBytes * this.init.lowWatermark)): Promise<EvictionResult> {
    return await this.init.exclusive(async () => await this.evictNow(targetBytes))
  }

  /** Starts a pass in the background if the store is over its high watermark and none runs. */
  maybeEvict (): void {
    const { quotaBytes, highWatermark, logger } = this.init
    const used = this.usedBytes()
    if (this.evicting || used <= quotaBytes * highWatermark) return
    if (Date.now() < this.quietUntil && (used > quotaBytes) === this.overQuotaAfterPass) return
    this.evicting = true
    void this.evict()
      .then((result) => { logger.info('evicted blobs', { ...result }) })
      .catch((error) => { logger.error('eviction failed', { error }) })
      .finally(() => {
        this.evicting = false
        // Unfinished uploads can keep the store above its watermark with nothing left to
        // evict; their every chunk calls here, and a pass scans the LRU order: pause a while.
        const after = this.usedBytes()
        this.overQuotaAfterPass = after > quotaBytes
        this.quietUntil = after > quotaBytes * highWatermark ? Date.now() + EVICTION_RETRY_MS : 0
      })
  }

  /** Stored blobs plus temp files of unfinished writes. */
  private usedBytes (): number {
    return this.init.totals.totalBytes + this.init.tempBytes()
  }

  private async evictNow (targetBytes: number): Promise<EvictionResult> {
    const { index, totals, accessTimes, commitLocks } = this.init
    await accessTimes.flush()
    let evictedBlobs = 0
    let evictedBytes = 0
    // First pass spares recently used blobs; a second pass runs only if the store is still
    // over its whole quota.
    for (const spareRecent of [true, false]) {
      if (this.usedBytes() <= targetBytes) break
      if (!spareRecent && this.usedBytes() <= this.init.quotaBytes) break
      const protectAfter = spareRecent ? Date.now() - this.init.recentProtectionMs : Infinity
      const doomedFiles: string[] = []
      const ops: IndexOp[] = []
      // Victims hold their hash's commit lock until their files are gone, so a concurrent
      // commit of the same digest waits and then stores it afresh (instead of being told
      // "already stored" and losing the blob to this pass, or renaming a file we then unlink).
      const victims: string[] = []
      const evicted = Promise.withResolvers<void>()
      for await (const key of index.lru.keys()) {
        if (this.usedBytes() <= targetBytes) break
        const hash = hashOfAccessKey(key)
        const value = await index.blobs.get(hash)
        const meta = value === undefined ? undefined : decodeMeta(value)
        if (meta === undefined || accessKey(meta.accessedAt, hash) !== key) {
          ops.push({ type: 'del', sublevel: index.lru, key })
          continue
        }
        if (meta.accessedAt > protectAfter) break
        if (this.pins.has(hash) || commitLocks.has(hash) || this.guards.some((guard) => guard(hash))) continue
        // Used since the pass began (e.g. FindMissingBlobs told a client it is here): spare it.
        if (spareRecent && accessTimes.isPending(hash)) continue
        commitLocks.set(hash, evicted.promise)
        victims.push(hash)
        ops.push({ type: 'del', sublevel: index.lru, key }, { type: 'del', sublevel: index.blobs, key: hash })
        if (meta.inline) {
          ops.push({ type: 'del', sublevel: index.inlineData, key: hash })
          totals.inlineBlobCount -= 1
        } else {
          doomedFiles.push(this.init.blobPath(hash))
        }
        accessTimes.forget(hash)
        this.init.onEvicted?.(hash)
        totals.blobCount -= 1
        totals.totalBytes -= meta.sizeBytes
        evictedBlobs += 1
        evictedBytes += meta.sizeBytes
      }
      try {
        await writeBatch(index, ops)
        // Index first, then files: a crash in between leaves files the next start adopts.
        await Promise.all(doomedFiles.map(async (path) => { await rm(path, { force: true }) }))
      } finally {
        this.init.afterEvicted?.(victims)
        for (const hash of victims) if (commitLocks.get(hash) === evicted.promise) commitLocks.delete(hash)
        evicted.resolve()
      }
    }
    this.evicted.blobs += evictedBlobs
    this.evicted.bytes += evictedBytes
    return { evictedBlobs, evictedBytes, totalBytesAfter: totals.totalBytes }
  }
}

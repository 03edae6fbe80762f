import { ACCESS_TIME_GRANULARITY_MS } from './constants.js'
import { accessKey, decodeMeta, encodeMeta, type BlobMeta, type IndexDb, type IndexOp, writeBatch } from './index-db.js'

/**
 * Batches blobs' last-access times, so that reads do not write to the index: a read notes the
 * blob (only if its recorded time is older than {@link ACCESS_TIME_GRANULARITY_MS}), and
 * {@link AccessTimes.flush} moves every noted blob to the young end of the LRU order in one
 * index batch. The store flushes periodically and before each eviction pass.
 */
export class AccessTimes {
  private readonly pending = new Set<string>()

  constructor (private readonly index: Pick<IndexDb, 'db' | 'blobs' | 'lru'>) {}

  /** Accesses noted and not yet written. */
  get size (): number {
    return this.pending.size
  }

  /**
   * Notes an access to the blob `hash`, whose index entry is `meta`; true when it is to be
   * written (its recorded time is older than the granularity).
   */
  note (hash: string, meta: BlobMeta): boolean {
    if (Date.now() - meta.accessedAt < ACCESS_TIME_GRANULARITY_MS) return false
    this.pending.add(hash)
    return true
  }

  /** True when an access to `hash` is noted and not yet written. */
  isPending (hash: string): boolean {
    return this.pending.has(hash)
  }

  /** Drops a noted access (the blob is gone). */
  forget (hash: string): void {
    this.pending.delete(hash)
  }

  /**
   * Writes the noted access times to the index. The caller runs it exclusively with the
   * store's other index maintenance (eviction), which reads the LRU order it rewrites.
   */
  async flush (): Promise<void> {
    if (this.pending.size === 0) return
    const now = Date.now()
    const batch = [...this.pending]
    this.pending.clear()
    const current = await this.index.blobs.getMany(batch)
    const ops: IndexOp[] = []
    batch.forEach((hash, i) => {
      const value = current[i]
      if (value === undefined) return
      const meta = decodeMeta(value)
      ops.push(
        { type: 'del', sublevel: this.index.lru, key: accessKey(meta.accessedAt, hash) },
        { type: 'put', sublevel: this.index.lru, key: accessKey(now, hash), value: Buffer.alloc(0) },
        { type: 'put', sublevel: this.index.blobs, key: hash, value: encodeMeta({ ...meta, accessedAt: now }) }
      )
    })
    await writeBatch(this.index, ops)
  }
}

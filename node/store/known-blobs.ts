import type { BlobMeta } from './index-db.js'

/**
 * The index entries of blobs recently found in or written to the store, so that hot lookups —
 * FindMissingBlobs of a build's inputs, the outputs an action result names, small reads — skip
 * LevelDB. Bounded: past `capacity` the entry remembered first goes. The store forgets a blob
 * here before it writes the blob's removal and again once it is written, so a lookup that read
 * the index in between cannot leave a removed blob behind.
 */
export class KnownBlobs {
  private readonly entries = new Map<string, BlobMeta>()

  constructor (private readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= 0)) throw new RangeError(`KnownBlobs capacity must be a non-negative integer, got ${capacity}`)
  }

  /** The remembered entry of `hash` (the caller may move its `accessedAt` forward), or `undefined`. */
  get (hash: string): BlobMeta | undefined {
    return this.entries.get(hash)
  }

  /** Remembers a copy of the index entry of a stored blob. */
  remember (hash: string, meta: BlobMeta): void {
    if (this.capacity === 0) return
    if (!this.entries.has(hash) && this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(hash, { ...meta })
  }

  /** Forgets `hash` (being removed, or removed). */
  forget (hash: string): void {
    this.entries.delete(hash)
  }

  /** Entries remembered now. */
  get size (): number {
    return this.entries.size
  }
}

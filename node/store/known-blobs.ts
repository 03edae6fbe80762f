import type { BlobMeta } from './index-db.js'

/**
 * The index entries of blobs recently found in or written to the store, so that hot lookups —
 * FindMissingBlobs of a build's inputs, the outputs an action result names, small reads — skip
 * LevelDB, and the bytes of recently read inline blobs. Bounded: past `capacity` entries (or
 * `inlineBudgetBytes` of bytes) the one remembered first goes. The store forgets a blob here
 * before it writes the blob's removal and again once it is written, so a lookup that read the
 * index in between cannot leave a removed blob behind.
 */
export class KnownBlobs {
  private readonly entries = new Map<string, BlobMeta>()
  private readonly inlineData = new Map<string, Buffer>()
  private inlineBytes = 0

  constructor (private readonly capacity: number, private readonly inlineBudgetBytes = 0) {
    if (!(Number.isInteger(capacity) && capacity >= 0)) throw new RangeError(`KnownBlobs capacity must be a non-negative integer, got ${capacity}`)
    if (!(Number.isInteger(inlineBudgetBytes) && inlineBudgetBytes >= 0)) throw new RangeError(`KnownBlobs inline budget must be a non-negative integer, got ${inlineBudgetBytes}`)
  }

  /** The remembered bytes of the inline blob `hash` (never to be written to), or `undefined`. */
  inline (hash: string): Buffer | undefined {
    return this.inlineData.get(hash)
  }

  /** Remembers the bytes of an inline blob read from the index. */
  rememberInline (hash: string, data: Buffer): void {
    if (data.byteLength > this.inlineBudgetBytes || this.inlineData.has(hash)) return
    while (this.inlineBytes + data.byteLength > this.inlineBudgetBytes) {
      const [oldest, bytes] = this.inlineData.entries().next().value!
      this.inlineData.delete(oldest)
      this.inlineBytes -= bytes.byteLength
    }
    this.inlineData.set(hash, data)
    this.inlineBytes += data.byteLength
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
    const data = this.inlineData.get(hash)
    if (data !== undefined) {
      this.inlineData.delete(hash)
      this.inlineBytes -= data.byteLength
    }
  }

  /** Entries remembered now. */
  get size (): number {
    return this.entries.size
  }
}

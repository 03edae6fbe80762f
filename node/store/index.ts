/**
 * What other modules need from the local store, one small interface per use. A module takes
 * the ones it uses through its constructor; `LocalStore` (local-store.ts) implements them all.
 */
import type { FileHandle } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import type { BlobWriter } from './blob-writer.js'
import type { Digest } from './digest.js'
import type { Sublevel } from './index-db.js'

/** An open blob file (see {@link BlobReader.openBlob}). */
export interface BlobFile {
  readonly kind: 'file'
  readonly handle: FileHandle
  readonly sizeBytes: number
  /** Closes the file and releases the pin; safe to call twice. */
  close(): Promise<void>
}

/** A small blob's bytes, held inline in the index (see {@link BlobReader.openBlob}). */
export interface InlineBlob {
  readonly kind: 'inline'
  readonly data: Buffer
}

/** A byte range of a blob to read. */
export interface ReadRange {
  /** @default 0 */
  offset?: number
  /** Bytes to read from offset; 0 or absent means to the end. */
  limit?: number
}

/** Reads blobs held locally. Every successful lookup counts as an access (for eviction order). */
export interface BlobReader {
  /** True when the blob is stored locally (the empty blob always is). */
  has(digest: Digest): Promise<boolean>
  /** Returns the digests not stored locally, in request order. */
  findMissing(digests: readonly Digest[]): Promise<Digest[]>
  /** Reads a whole blob into memory (meant for small blobs), or `undefined` if absent. */
  read(digest: Digest): Promise<Buffer | undefined>
  /**
   * Opens a stream over `range` of a blob, or `undefined` if absent. The blob is pinned
   * against eviction until the stream ends or is destroyed.
   */
  openReadStream(digest: Digest, range?: ReadRange): Promise<Readable | undefined>
  /**
   * Opens a blob with one index lookup: an inline blob's bytes, or its file, pinned against
   * eviction until `close()`; `undefined` when absent.
   */
  openBlob(digest: Digest): Promise<BlobFile | InlineBlob | undefined>
  /**
   * Hashes a stored blob's bytes again (a reader saw them not match): a bad file is quarantined
   * and the blob is missing afterwards. Resolves true when the blob is stored and sound.
   */
  recheck(digest: Digest): Promise<boolean>
  /**
   * How many blobs the store has removed since it opened (evicted, quarantined, vanished). It
   * grows before each removal is written: a check that read the same number before and after
   * it ran saw no blob disappear.
   */
  readonly removals: number
}

/** Takes blobs in. Every byte is checked against its digest before the blob becomes visible. */
export interface BlobSink {
  /** Stores bytes held in memory. */
  put(digest: Digest, data: Buffer): Promise<void>
  /** Stores many in-memory blobs; one entry per blob, in order: `undefined` when stored, else the error that kept it out. */
  putMany(blobs: ReadonlyArray<{ readonly digest: Digest, readonly data: Buffer }>): Promise<Array<Error | undefined>>
  /** Starts a streaming write of one blob; nothing is visible until `commit()` verifies it. */
  createWriter(digest: Digest): BlobWriter
  /**
   * Stores a blob whose bytes are in a file the caller has finished writing, without copying
   * them where the file system can link; the store hashes them first (DigestMismatchError if
   * they do not match). The caller keeps `path`.
   */
  adoptFile(digest: Digest, path: string): Promise<void>
}

/** Counters describing the store. */
export interface StoreStats {
  blobCount: number
  totalBytes: number
  inlineBlobCount: number
  fileBlobCount: number
  /** Bytes in temp files of writes not yet committed (counted against the quota too). */
  tempBytes: number
  quotaBytes: number
  highWatermark: number
  lowWatermark: number
}

/**
 * What a clean stop of the store recorded: which opening it ended ({@link BlobCatalog.session})
 * and how many blobs that opening added and removed. State derived from the store's contents
 * (the availability summary) may be saved with the same three values and trusted at the next
 * start only when they match: nothing was added or removed after it was saved.
 */
export interface StoreStop {
  session: string
  additions: number
  removals: number
}

/** What the store holds, and what it gains (availability summaries, sync listings). */
export interface BlobCatalog {
  /** Every stored blob's digest, or only those written or used since `accessedSince` (ms). */
  digests(options?: { accessedSince?: number }): AsyncIterable<Digest>
  /** Counters of blobs and bytes held. */
  stats(): StoreStats
  /** Calls `listener` after each blob becomes visible, whoever wrote it. */
  onBlobAdded(listener: (digest: Digest) => void): void
  /** Identifies this opening of the store (random, new at each open). */
  readonly session: string
  /** Blobs this opening of the store has added (made visible). */
  readonly additions: number
  /** See {@link BlobReader.removals}. */
  readonly removals: number
  /**
   * What the previous opening recorded at its clean stop; `undefined` for a new store, after an
   * unclean stop (the store was reconciled with its files), or after a stop by a version that
   * did not record it.
   */
  readonly previousStop: StoreStop | undefined
  /**
   * Lets {@link BlobReader.findMissing} answer "missing" without reading the index for the hashes
   * `mayHold` rules out (a Bloom filter of the store: the availability summary); `undefined`
   * stops it. `mayHold` must be true for every blob the store holds — built from {@link digests}
   * and told of every blob since through {@link onBlobAdded} — until it is replaced.
   */
  setMembershipFilter(mayHold: ((hash: string) => boolean) | undefined): void
}

/** Room in the store's index for another component's durable state (the upload queue). */
export interface SublevelProvider {
  /** A private, crash-safe sublevel of the index; some names are reserved by the store. */
  sublevel(name: string): Sublevel
}

/** Lets another component keep blobs from being evicted. */
export interface EvictionGuards {
  /** While `guard(hash)` is true the blob stays (e.g. queued for upload to the central CAS). */
  addEvictionGuard(guard: (hash: string) => boolean): void
}

/**
 * Blobs up to this size live inline in LevelDB; larger ones are files under `cas/`.
 * Chosen from `scripts/inline-threshold.mjs` (numbers in docs/architecture.md): up to 4 KiB,
 * inline writes are ~8× faster than one file each and reads ~2× faster; at 16 KiB writes are
 * at parity and reads still ~1.5× faster; above that, files win on reads and keep large
 * values out of LevelDB's compactions.
 */
export const DEFAULT_INLINE_THRESHOLD_BYTES = 16 * 1024

/** Eviction starts when the store exceeds this fraction of its quota. */
export const DEFAULT_HIGH_WATERMARK = 0.95

/** Eviction stops once the store is below this fraction of its quota. */
export const DEFAULT_LOW_WATERMARK = 0.85

/** A blob's last-access time is only rewritten when older than this (limits index writes). */
export const ACCESS_TIME_GRANULARITY_MS = 60_000

/** Pending access-time updates are flushed to LevelDB this often. */
export const ACCESS_TIME_FLUSH_INTERVAL_MS = 5_000

/** Blobs written this recently are never evicted (a client is about to use them). */
export const RECENT_WRITE_PROTECTION_MS = 60_000

/**
 * Free space needed before the index is reopened after a failed write (LevelDB rewrites its log
 * into a table of up to its 4 MiB write buffer, then starts a new log and manifest).
 */
export const INDEX_RECOVERY_FREE_BYTES = 8 * 1024 * 1024

/** While the index refuses writes after a failure, a reopen is tried this often, ms. */
export const INDEX_RECOVERY_RETRY_MS = 5_000

/** Buffer size of the temp-file writer; also the read chunk size. */
export const FILE_CHUNK_BYTES = 1024 * 1024

/** A scrub pass starts this long after the previous one began (bit rot is slow; reads verify too). */
export const SCRUB_PASS_INTERVAL_MS = 24 * 60 * 60_000

/** Index entries the scrubber lists per page (no iterator is held open between pages). */
export const SCRUB_PAGE_ENTRIES = 256

/**
 * The first scrub pass starts this long after the store opens: not while the node starts and
 * builds its availability summary (a pass walks the whole index; at start it doubled the
 * node's memory in the 1M-blob startup bench, 92 → 214 MB anonymous).
 */
export const SCRUB_START_DELAY_MS = 2 * 60_000

/** Pause between index pages of a scrub pass, so walking millions of entries stays in the background. */
export const SCRUB_PAGE_PAUSE_MS = 2

/** Quarantined blob files kept in `<dataDir>/quarantine` for inspection; older ones are deleted. */
export const QUARANTINE_MAX_FILES = 32

/**
 * Index lookups of up to this many keys run synchronously (node/store/index-db.ts `indexGetMany`):
 * each costs a few microseconds from LevelDB's cache, so a batch this size holds the event loop
 * well under a millisecond, against ~100 µs of thread-pool round trip for an asynchronous read.
 */
export const SYNC_INDEX_LOOKUP_MAX = 128

/**
 * A read of many index keys (node/store/index-db.ts `indexGetMany`) is split into up to this many
 * slices read at once: libuv's default thread pool has four threads.
 */
export const INDEX_LOOKUP_SLICES = 4

/** Fewest keys per slice of a split index read (below that one `getMany()` is cheaper). */
export const INDEX_LOOKUP_SLICE_MIN = 512

/**
 * Index entries of recently looked-up blobs kept in memory (node/store/known-blobs.ts): about
 * 10 MB at most, enough for the inputs and outputs a build asks about again and again.
 */
export const KNOWN_BLOB_ENTRIES = 65_536

/** Bytes of recently read inline blobs kept in memory beside {@link KNOWN_BLOB_ENTRIES}. */
export const KNOWN_INLINE_BYTES = 8 * 1024 * 1024

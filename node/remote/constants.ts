/** Attempts per call (first try included) for UNAVAILABLE and RESOURCE_EXHAUSTED. */
export const DEFAULT_MAX_ATTEMPTS = 4

/** First retry delay; doubles per attempt, with full jitter. */
export const DEFAULT_RETRY_BASE_MS = 100

/** Upper bound of one retry delay. */
export const DEFAULT_RETRY_MAX_MS = 2_000

/** Consecutive failed calls (after their retries) that take the central offline. */
export const DEFAULT_FAILURE_THRESHOLD = 3

/** First probe of an offline central; doubles (with jitter) up to {@link DEFAULT_PROBE_MAX_MS}. */
export const DEFAULT_PROBE_BASE_MS = 250

/** Longest wait between two probes of an offline central. */
export const DEFAULT_PROBE_MAX_MS = 5_000

/** Batch limit used when the central advertises none (0 = unlimited per REAPI). */
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024

/** Blobs up to this size (and the central's batch limit) are read with BatchReadBlobs. */
export const BATCH_READ_THRESHOLD_BYTES = 1024 * 1024

/** Digests per upstream FindMissingBlobs request. */
export const FIND_MISSING_CHUNK = 4_000

/** Queued blobs considered per drain round. */
export const DRAIN_BLOBS_PER_ROUND = 2_000

/** Queued action results considered per drain round. */
export const DRAIN_ACTIONS_PER_ROUND = 100

/** Queued asset mappings and refs considered per drain round. */
export const DRAIN_NAMES_PER_ROUND = 100

/** Chunk size of ByteStream uploads and reads. */
export const STREAM_CHUNK_BYTES = 1024 * 1024

/** Entries kept in the "central has it" cache before expired ones are pruned. */
export const PRESENCE_CACHE_MAX_ENTRIES = 500_000

/**
 * A large upload's deadline grows with its size at this assumed worst-case rate (bytes/s), on top
 * of the per-call deadline, so big blobs on slow links are not cut off.
 */
export const MIN_UPLOAD_RATE_BYTES = 1024 * 1024

/** Interval of progress reports while flushing. */
export const FLUSH_REPORT_INTERVAL_MS = 250

/** How often the token file is checked for changes (on use). */
export const TOKEN_RECHECK_MS = 1_000

/** Longest the node's start waits for the central's first answer (then it starts offline). */
export const STARTUP_PROBE_WAIT_MS = 3_000

/**
 * BatchReadBlobs calls for read-through misses in flight at once. While they are out, further
 * small misses gather and leave together in the next batch when one returns.
 */
export const BATCH_READS_IN_FLIGHT = 2

/**
 * Digests per coalesced BatchReadBlobs. Keeps the per-entry framing of a full batch (~100 bytes
 * each) well inside the 1 MiB of headroom the gRPC message limit leaves above the batch limit.
 */
export const BATCH_READ_MAX_BLOBS = 1_000

import { MAX_BATCH_TOTAL_SIZE_BYTES } from '../domain/constants.js'

/**
 * Largest gRPC message accepted or sent: a full batch plus room for per-blob framing and digests.
 * Anything larger is refused by grpc-js with RESOURCE_EXHAUSTED.
 */
export const MAX_GRPC_MESSAGE_BYTES = MAX_BATCH_TOTAL_SIZE_BYTES + 1024 * 1024

/**
 * Upper bound of what one BatchReadBlobs answer entry adds beyond its blob's bytes: the digest
 * (64-hex hash, size), the status with a message of at most {@link BATCH_STATUS_MESSAGE_BYTES},
 * and protobuf framing (194 bytes at most; rounded up). A request whose answer could exceed
 * {@link MAX_GRPC_MESSAGE_BYTES} is refused before any lookup.
 */
export const BATCH_READ_ENTRY_OVERHEAD_BYTES = 200

/** Longest status message of one batch entry, in UTF-8 bytes (longer ones are cut). */
export const BATCH_STATUS_MESSAGE_BYTES = 100

/**
 * Digests of one BatchReadBlobs looked up at once (one index lookup for the slice, then the
 * reads and tier fetches of its blobs). Bounds the promises, abort listeners and LevelDB reads
 * one call holds, so another client's lookup waits behind at most one slice. Half the central
 * tier's batch (remote/constants.ts BATCH_READ_MAX_BLOBS), so misses still leave in few calls.
 */
export const BATCH_READ_SLICE = 512

/** A BatchReadBlobs call yields to the event loop after this long of its own work, ms. */
export const BATCH_READ_SLICE_MS = 5

/** Chunk size of ByteStream.Read responses. */
export const READ_CHUNK_BYTES = 1024 * 1024

/**
 * ByteStream uploads being streamed at once; more are refused with RESOURCE_EXHAUSTED. Uploads
 * that stopped (kept for a resume) do not count: they are bounded by {@link MAX_IDLE_UPLOADS}.
 */
export const MAX_ACTIVE_UPLOADS = 1024

/** Stopped uploads kept for a resume; past this the one idle longest is dropped. */
export const MAX_IDLE_UPLOADS = 256

/**
 * Bytes of stopped uploads kept for a resume, as a fraction of the store's quota; past this the
 * ones idle longest are dropped (the most recent one is always kept).
 */
export const IDLE_UPLOAD_QUOTA_FRACTION = 0.25

/** A partial ByteStream upload is kept this long for the client to resume it. */
export const UPLOAD_RESUME_TTL_MS = 5 * 60_000

/** Directories per GetTree response page when the client does not choose. */
export const DEFAULT_TREE_PAGE_SIZE = 1000

/** Highest REAPI version this server implements. */
export const HIGH_API_VERSION = { major: 2, minor: 3, patch: 0, prerelease: '' }

/** Lowest REAPI version this server implements. */
export const LOW_API_VERSION = { major: 2, minor: 0, patch: 0, prerelease: '' }

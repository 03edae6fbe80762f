import type { Digest } from './digest.js'
import { PeercasError, Status } from '../domain/status.js'

/** A hash or size that is not a valid SHA-256 digest. */
export class InvalidDigestError extends PeercasError {
  override name = 'InvalidDigestError'
  readonly status = Status.INVALID_ARGUMENT
}

/** Bytes whose SHA-256 or length does not match the digest they were sent under. */
export class DigestMismatchError extends PeercasError {
  override name = 'DigestMismatchError'
  readonly status = Status.INVALID_ARGUMENT
  constructor (readonly expected: Digest, readonly actualHash: string, readonly actualSize: number) {
    super(actualSize !== expected.sizeBytes
      ? `blob ${expected.hash}/${expected.sizeBytes}: received ${actualSize} bytes, expected ${expected.sizeBytes}`
      : `blob ${expected.hash}/${expected.sizeBytes}: received bytes hash to ${actualHash}`)
  }
}

/** A write that sent more bytes than its digest announced, detected before the end. */
export class BlobTooLongError extends DigestMismatchError {
  override name = 'BlobTooLongError'
}

/** A blob larger than the whole store quota. */
export class BlobTooLargeError extends PeercasError {
  override name = 'BlobTooLargeError'
  readonly status = Status.RESOURCE_EXHAUSTED
  constructor (readonly digest: Digest, readonly quotaBytes: number) {
    super(`blob ${digest.hash}/${digest.sizeBytes} is larger than the store quota of ${quotaBytes} bytes`)
  }
}

/** The data directory is already in use by another peercas process. */
export class DataDirLockedError extends PeercasError {
  override name = 'DataDirLockedError'
  readonly status = Status.UNAVAILABLE
}

/** The disk under the data dir is full: the blob or index write did not happen. */
export class DiskFullError extends PeercasError {
  override name = 'DiskFullError'
  readonly status = Status.RESOURCE_EXHAUSTED
}

/**
 * The index could not be written (an I/O error other than a full disk), or is being reopened
 * after such an error; writes are refused until it is proven consistent again.
 */
export class IndexWriteError extends PeercasError {
  override name = 'IndexWriteError'
  readonly status = Status.UNAVAILABLE
}

/** The index could not be opened at start (the message says why, e.g. too little free space). */
export class IndexOpenError extends PeercasError {
  override name = 'IndexOpenError'
  readonly status = Status.UNAVAILABLE
}

/** True for a failure that means the disk is full (a Node ENOSPC, or LevelDB's message for it). */
export function isDiskFull (error: unknown): boolean {
  for (let e = error as { code?: unknown, message?: unknown, cause?: unknown } | undefined, depth = 0; e != null && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code === 'ENOSPC' || (typeof e.message === 'string' && e.message.includes('No space left on device'))) return true
  }
  return false
}

/** `error` as a {@link DiskFullError} (naming `what` failed) when it means the disk is full; else `error`. */
export function diskFullOr (error: unknown, what: string): unknown {
  if (error instanceof DiskFullError || !isDiskFull(error)) return error
  return new DiskFullError(`${what}: no space left on the disk; free some space or lower --max-size`, { cause: error })
}

/**
 * A stored blob's file was found damaged (shorter than its size) while being read, after its
 * first-read check: the read fails, and the file is checked again and quarantined.
 */
export class BlobFileDamagedError extends PeercasError {
  override name = 'BlobFileDamagedError'
  readonly status = Status.DATA_LOSS
}

/** An operation on a store that has been closed. */
export class StoreClosedError extends PeercasError {
  override name = 'StoreClosedError'
  readonly status = Status.UNAVAILABLE
  constructor () { super('the store is closed') }
}

/** A write that was aborted before it committed (client went away, shutdown). */
export class WriteAbortedError extends PeercasError {
  override name = 'WriteAbortedError'
  readonly status = Status.UNAVAILABLE
}

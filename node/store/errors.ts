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

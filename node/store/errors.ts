import type { Digest } from './digest.js'

/** A hash or size that is not a valid SHA-256 digest. */
export class InvalidDigestError extends Error {
  override name = 'InvalidDigestError'
}

/** Bytes whose SHA-256 or length does not match the digest they were sent under. */
export class DigestMismatchError extends Error {
  override name = 'DigestMismatchError'
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
export class BlobTooLargeError extends Error {
  override name = 'BlobTooLargeError'
  constructor (readonly digest: Digest, readonly quotaBytes: number) {
    super(`blob ${digest.hash}/${digest.sizeBytes} is larger than the store quota of ${quotaBytes} bytes`)
  }
}

/** The data directory is already in use by another peercas process. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
}

/** An operation on a store that has been closed. */
export class StoreClosedError extends Error {
  override name = 'StoreClosedError'
  constructor () { super('the store is closed') }
}

/** A write that was aborted before it committed (client went away, shutdown). */
export class WriteAbortedError extends Error {
  override name = 'WriteAbortedError'
}

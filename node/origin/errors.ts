import { PeercasError, Status } from '../domain/status.js'

/** The origin answered 404 or 410. */
export class OriginNotFoundError extends PeercasError {
  override name = 'OriginNotFoundError'
  readonly status = Status.NOT_FOUND
}

/** The origin refused the request (401, 403). */
export class OriginRefusedError extends PeercasError {
  override name = 'OriginRefusedError'
  readonly status = Status.PERMISSION_DENIED
}

/** The origin could not be reached or failed (connection error, 5xx, too many redirects). */
export class OriginUnavailableError extends PeercasError {
  override name = 'OriginUnavailableError'
  readonly status = Status.UNAVAILABLE
}

/** The download did not finish within its timeout. */
export class OriginTimeoutError extends PeercasError {
  override name = 'OriginTimeoutError'
  readonly status = Status.DEADLINE_EXCEEDED
}

/** The content is larger than the node's download cap. */
export class OriginTooLargeError extends PeercasError {
  override name = 'OriginTooLargeError'
  readonly status = Status.RESOURCE_EXHAUSTED
}

/**
 * The origin's bytes do not match the request's `checksum.sri`: nothing was stored. DATA_LOSS
 * rather than ABORTED, so clients (Bazel retries ABORTED) do not download the same bad bytes again.
 */
export class ChecksumMismatchError extends PeercasError {
  override name = 'ChecksumMismatchError'
  readonly status = Status.DATA_LOSS
}

import { PeercasError, Status } from './status.js'

/** A request field that is malformed (bad instance name, resource name, page token…). */
export class InvalidRequestError extends PeercasError {
  override name = 'InvalidRequestError'
  readonly status = Status.INVALID_ARGUMENT
}

/** A request this cache-only node does not implement (execution, compression, other digest functions). */
export class NotSupportedError extends PeercasError {
  override name = 'NotSupportedError'
  readonly status = Status.UNIMPLEMENTED
}

/** A ByteStream write offset that does not continue the upload where it stands. */
export class WriteOffsetError extends PeercasError {
  override name = 'WriteOffsetError'
  readonly status = Status.INVALID_ARGUMENT
}

/** A read offset past the end of a blob. */
export class ReadOutOfRangeError extends PeercasError {
  override name = 'ReadOutOfRangeError'
  readonly status = Status.OUT_OF_RANGE
}

/** Too many unfinished uploads are open at once. */
export class TooManyUploadsError extends PeercasError {
  override name = 'TooManyUploadsError'
  readonly status = Status.RESOURCE_EXHAUSTED
}

/**
 * A requested blob or action result that is not in the cache. Built without a stack: a miss is
 * an answer, not a fault, and capturing the async stack of the call cost ~14 µs per miss (bench
 * case `rpc`, GetActionResult miss).
 */
export class NotFoundError extends PeercasError {
  override name = 'NotFoundError'
  readonly status = Status.NOT_FOUND
  constructor (message: string, options?: ErrorOptions) {
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    try {
      super(message, options)
    } finally {
      Error.stackTraceLimit = limit
    }
  }
}

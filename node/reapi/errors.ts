import * as grpc from '@grpc/grpc-js'
import { PeercasError } from '../domain/status.js'

/** A gRPC error as grpc-js handlers pass it to callbacks. */
export type RpcError = grpc.ServiceError

/** Longest status message sent, in UTF-16 units: it travels in an HTTP/2 header (grpc-message). */
export const MAX_STATUS_MESSAGE_CHARS = 1024

/**
 * A status message short and well-formed enough to send. A message that quotes part of a
 * request string can hold a lone surrogate, and `encodeURI` (grpc-js percent-encodes the
 * trailers) throws on one outside any handler, which ended the process; a message quoting a
 * long request string made a header larger than clients accept, and they dropped the whole
 * connection with every call on it.
 */
export function sendableStatusMessage (details: string): string {
  if (details.length <= MAX_STATUS_MESSAGE_CHARS && details.isWellFormed()) return details
  const short = details.length <= MAX_STATUS_MESSAGE_CHARS ? details : details.slice(0, MAX_STATUS_MESSAGE_CHARS - 1) + '…'
  return short.toWellFormed()
}

/**
 * A gRPC error built here, at the edge, with the status it carries (see {@link rpcError}). Every
 * status a handler sends is one of these, so its `details` (what grpc-js puts in the trailers)
 * are made safe to send here ({@link sendableStatusMessage}); the full message stays in `message`.
 */
class EdgeRpcError extends Error implements RpcError {
  override name = 'RpcError'
  readonly details: string
  readonly metadata = new grpc.Metadata()
  constructor (readonly code: grpc.status, message: string) {
    super(message)
    this.details = sendableStatusMessage(message)
  }
}

/** Builds a gRPC error with a status code and a message that names the problem. */
export function rpcError (code: grpc.status, message: string): RpcError {
  return new EdgeRpcError(code, message)
}

/**
 * Maps a failure to the one gRPC status that describes it: the status a {@link PeercasError}
 * declares, or the code of an error built with {@link rpcError}. Anything else (a Node system
 * error, a grpc-js error from the central, a bug) is INTERNAL: its `code`, if any, belongs to
 * another protocol or another call, and says nothing true about this one.
 */
export function statusOf (error: unknown): grpc.status {
  if (error instanceof PeercasError) return error.status as number as grpc.status
  if (error instanceof EdgeRpcError) return error.code
  return grpc.status.INTERNAL
}

/** Converts any failure into a gRPC error for a handler's callback. */
export function toRpcError (error: unknown): RpcError {
  if (error instanceof EdgeRpcError) return error
  const message = error instanceof Error ? error.message : String(error)
  // Without a stack: this error only carries a status and message to the client (the original
  // keeps its own stack), and capturing one cost ~10 µs on every miss (bench case `rpc`).
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return rpcError(statusOf(error), message)
  } finally {
    Error.stackTraceLimit = limit
  }
}

/** The `google.rpc.Status` for one entry of a batch response. */
export function batchStatusOf (error: unknown): { code: number, message: string } {
  return { code: statusOf(error), message: error instanceof Error ? error.message : String(error) }
}

import * as grpc from '@grpc/grpc-js'
import {
  BlobTooLargeError, DataDirLockedError, DigestMismatchError, InvalidDigestError, StoreClosedError, WriteAbortedError
} from '../store/errors.js'

/** A request field that is malformed (bad instance name, resource name, page token…). */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError'
}

/** A request this cache-only node does not implement (execution, compression, other digest functions). */
export class NotSupportedError extends Error {
  override name = 'NotSupportedError'
}

/** A ByteStream write offset that does not continue the upload where it stands. */
export class WriteOffsetError extends Error {
  override name = 'WriteOffsetError'
}

/** A read offset past the end of a blob. */
export class ReadOutOfRangeError extends Error {
  override name = 'ReadOutOfRangeError'
}

/** Too many unfinished uploads are open at once. */
export class TooManyUploadsError extends Error {
  override name = 'TooManyUploadsError'
}

/** A requested blob or action result that is not in the cache. */
export class NotFoundError extends Error {
  override name = 'NotFoundError'
}

/** A gRPC error as grpc-js handlers pass it to callbacks. */
export type RpcError = grpc.ServiceError

/** Builds a gRPC error with a status code and a message that names the problem. */
export function rpcError (code: grpc.status, message: string): RpcError {
  return Object.assign(new Error(message), { code, details: message, metadata: new grpc.Metadata() })
}

/** Maps a failure to the one gRPC status that describes it. */
export function statusOf (error: unknown): grpc.status {
  if (error instanceof InvalidDigestError || error instanceof InvalidRequestError || error instanceof DigestMismatchError || error instanceof WriteOffsetError) return grpc.status.INVALID_ARGUMENT
  if (error instanceof ReadOutOfRangeError) return grpc.status.OUT_OF_RANGE
  if (error instanceof NotFoundError) return grpc.status.NOT_FOUND
  if (error instanceof NotSupportedError) return grpc.status.UNIMPLEMENTED
  if (error instanceof BlobTooLargeError || error instanceof TooManyUploadsError) return grpc.status.RESOURCE_EXHAUSTED
  if (error instanceof StoreClosedError || error instanceof WriteAbortedError || error instanceof DataDirLockedError) return grpc.status.UNAVAILABLE
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number') return (error as RpcError).code
  return grpc.status.INTERNAL
}

/** Converts any failure into a gRPC error for a handler's callback. */
export function toRpcError (error: unknown): RpcError {
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number' && 'metadata' in error) return error as RpcError
  const message = error instanceof Error ? error.message : String(error)
  return rpcError(statusOf(error), message)
}

/** The `google.rpc.Status` for one entry of a batch response. */
export function batchStatusOf (error: unknown): { code: number, message: string } {
  return { code: statusOf(error), message: error instanceof Error ? error.message : String(error) }
}

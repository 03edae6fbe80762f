import { backoffDelay, retry } from '../limits/index.js'
import * as grpc from '@grpc/grpc-js'
import { CentralTimeoutError } from './errors.js'

/** How a failed call to the central is treated. */
export type FailureKind =
  /** Worth retrying after a pause (UNAVAILABLE, RESOURCE_EXHAUSTED). */
  | 'retry'
  /** The central did not answer in time. */
  | 'timeout'
  /** The central refused our credentials; retrying would only repeat that. */
  | 'auth'
  /** A definite answer about this request (NOT_FOUND, INVALID_ARGUMENT…); the central is fine. */
  | 'answer'

/** Classifies a grpc-js error (or anything else thrown by a call). */
export function failureKind (error: unknown): FailureKind {
  if (error instanceof CentralTimeoutError) return 'timeout'
  const code = grpcCode(error)
  switch (code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.RESOURCE_EXHAUSTED:
      return 'retry'
    case grpc.status.DEADLINE_EXCEEDED:
      return 'timeout'
    case grpc.status.UNAUTHENTICATED:
    case grpc.status.PERMISSION_DENIED:
      return 'auth'
    default:
      return 'answer'
  }
}

/** The gRPC status code of an error, if it has one. */
export function grpcCode (error: unknown): grpc.status | undefined {
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number') return (error as { code: number }).code
  return undefined
}

/** Options of {@link withRetries}. */
export interface RetryInit {
  /** Attempts including the first. */
  maxAttempts: number
  baseMs: number
  maxMs: number
}

/** True for a failure worth another attempt of the same call (UNAVAILABLE, RESOURCE_EXHAUSTED). */
export function isRetryable (error: unknown): boolean {
  return failureKind(error) === 'retry'
}

/**
 * True for a failure that cut a stream short without saying anything about the blob: the
 * transport or the central broke (UNAVAILABLE, RESOURCE_EXHAUSTED, INTERNAL, a cancel by the
 * central, a reset connection) or it ran out of time (a deadline, a stall). A stream that had
 * delivered bytes before such a failure is worth resuming where it stopped.
 */
export function isStreamInterruption (error: unknown): boolean {
  const kind = failureKind(error)
  if (kind === 'retry' || kind === 'timeout') return true
  const code = grpcCode(error)
  return code === grpc.status.INTERNAL || code === grpc.status.CANCELLED || code === grpc.status.UNKNOWN
}

/**
 * Runs `attempt` until it succeeds, fails with an error `retryable` rejects (by default
 * {@link isRetryable}), runs out of attempts or `signal` fires. Delays grow exponentially with
 * full jitter, so many nodes retrying at once spread out instead of hammering the central in step.
 */
export async function withRetries<T> (attempt: (n: number) => Promise<T>, init: RetryInit, signal: AbortSignal, retryable: (error: unknown) => boolean = isRetryable): Promise<T> {
  return await retry(attempt, { ...init, signal, retryable })
}

/** Full-jitter exponential backoff: uniform in [0, min(max, base·2^(n-1))]. */
export function jitteredDelay (attempt: number, baseMs: number, maxMs: number): number {
  return backoffDelay(attempt, { baseMs, maxMs })
}


/**
 * The canonical status codes of `google.rpc.Code`, as numbers. Protocol-neutral: the domain,
 * store, p2p and remote layers declare their failures with these; the gRPC edge passes them on
 * (grpc-js `status` uses the same numbers).
 */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16
} as const

/** One of the {@link Status} codes. */
export type Status = typeof Status[keyof typeof Status]

/**
 * Base of every peercas failure that a client may see: each subclass declares the one status
 * that describes it, so the edge maps errors without a list of classes.
 */
export abstract class PeercasError extends Error {
  /** The status a client receives for this failure. */
  abstract readonly status: Status
}

import { PeercasError, Status } from '../domain/status.js'

/** The central CAS endpoint is not `grpc://host:port` or `grpcs://host:port`. */
export class InvalidEndpointError extends PeercasError {
  override name = 'InvalidEndpointError'
  readonly status = Status.FAILED_PRECONDITION
}

/** The central CAS is marked offline (circuit open); the call was not attempted. */
export class CentralOfflineError extends PeercasError {
  override name = 'CentralOfflineError'
  readonly status = Status.UNAVAILABLE
}

/** The central refused our credentials (UNAUTHENTICATED or PERMISSION_DENIED). */
export class CentralAuthError extends PeercasError {
  override name = 'CentralAuthError'
  readonly status = Status.FAILED_PRECONDITION
}

/** The central returned bytes that do not match the digest asked for. */
export class CentralCorruptBlobError extends PeercasError {
  override name = 'CentralCorruptBlobError'
  readonly status = Status.UNAVAILABLE
}

/** The central cannot be used with this node (digest function, capabilities). */
export class CentralIncompatibleError extends PeercasError {
  override name = 'CentralIncompatibleError'
  readonly status = Status.FAILED_PRECONDITION
}

/** A call to the central did not finish within the time a local client may wait. */
export class CentralTimeoutError extends PeercasError {
  override name = 'CentralTimeoutError'
  readonly status = Status.DEADLINE_EXCEEDED
}

/** A TLS or token file given in the configuration cannot be read. */
export class CredentialsFileError extends PeercasError {
  override name = 'CredentialsFileError'
  readonly status = Status.FAILED_PRECONDITION
}

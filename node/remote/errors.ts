/** The central CAS endpoint is not `grpc://host:port` or `grpcs://host:port`. */
export class InvalidEndpointError extends RangeError {
  override name = 'InvalidEndpointError'
}

/** The central CAS is marked offline (circuit open); the call was not attempted. */
export class CentralOfflineError extends Error {
  override name = 'CentralOfflineError'
}

/** The central refused our credentials (UNAUTHENTICATED or PERMISSION_DENIED). */
export class CentralAuthError extends Error {
  override name = 'CentralAuthError'
}

/** The central returned bytes that do not match the digest asked for. */
export class CentralCorruptBlobError extends Error {
  override name = 'CentralCorruptBlobError'
}

/** The central cannot be used with this node (digest function, capabilities). */
export class CentralIncompatibleError extends Error {
  override name = 'CentralIncompatibleError'
}

/** A call to the central did not finish within the time a local client may wait. */
export class CentralTimeoutError extends Error {
  override name = 'CentralTimeoutError'
}

/** A TLS or token file given in the configuration cannot be read. */
export class CredentialsFileError extends Error {
  override name = 'CredentialsFileError'
}

import { PeercasError, Status } from '../domain/status.js'

/** A peer broke the protocol or sent bytes that do not match their digest. */
export class PeerMisbehavedError extends PeercasError {
  override name = 'PeerMisbehavedError'
  readonly status = Status.UNAVAILABLE
}

/** A frame longer than the reader's cap. */
export class FrameTooLargeError extends PeercasError {
  override name = 'FrameTooLargeError'
  readonly status = Status.RESOURCE_EXHAUSTED
}

/** A frame that does not decode as the expected message. */
export class MalformedFrameError extends PeercasError {
  override name = 'MalformedFrameError'
  readonly status = Status.UNAVAILABLE
}

/** The stream ended (peer closed or disconnected) before a complete frame or blob. */
export class UnexpectedEndError extends PeercasError {
  override name = 'UnexpectedEndError'
  readonly status = Status.UNAVAILABLE
}

/** A peer sent nothing for longer than the fetch timeout. */
export class PeerStalledError extends PeercasError {
  override name = 'PeerStalledError'
  readonly status = Status.DEADLINE_EXCEEDED
}

/** A summary with an unknown version or out-of-range parameters. */
export class UnsupportedSummaryError extends PeercasError {
  override name = 'UnsupportedSummaryError'
  readonly status = Status.FAILED_PRECONDITION
}

/** `peercas sync` was given a peer that is neither a multiaddr with /p2p/ nor a known peer ID. */
export class UnknownPeerError extends PeercasError {
  override name = 'UnknownPeerError'
  readonly status = Status.INVALID_ARGUMENT
}

/** The identity file exists but does not hold a private key. */
export class InvalidIdentityError extends PeercasError {
  override name = 'InvalidIdentityError'
  readonly status = Status.FAILED_PRECONDITION
}

/**
 * True for failures of the stream itself (ended, reset, connection gone), as opposed to a peer
 * that answered badly or slowly. A reused stream that fails this way before its answer was most
 * likely closed by the peer at the same instant (idle timeout), which says nothing about the peer.
 */
export function isTransportError (error: unknown): boolean {
  if (error instanceof UnexpectedEndError) return true
  const name = (error as Error | undefined)?.name
  return name === 'StreamStateError' || name === 'StreamResetError' || name === 'StreamAbortedError' || name === 'ConnectionClosedError' || name === 'ConnectionClosingError'
}

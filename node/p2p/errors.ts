/** A peer broke the protocol or sent bytes that do not match their digest. */
export class PeerMisbehavedError extends Error {
  override name = 'PeerMisbehavedError'
}

/** A frame longer than the reader's cap. */
export class FrameTooLargeError extends Error {
  override name = 'FrameTooLargeError'
}

/** A frame that does not decode as the expected message. */
export class MalformedFrameError extends Error {
  override name = 'MalformedFrameError'
}

/** The stream ended (peer closed or disconnected) before a complete frame or blob. */
export class UnexpectedEndError extends Error {
  override name = 'UnexpectedEndError'
}

/** A peer sent nothing for longer than the fetch timeout. */
export class PeerStalledError extends Error {
  override name = 'PeerStalledError'
}

/** A summary with an unknown version or out-of-range parameters. */
export class UnsupportedSummaryError extends Error {
  override name = 'UnsupportedSummaryError'
}

/** `peercas sync` was given a peer that is neither a multiaddr with /p2p/ nor a known peer ID. */
export class UnknownPeerError extends Error {
  override name = 'UnknownPeerError'
}

/** The identity file exists but does not hold a private key. */
export class InvalidIdentityError extends Error {
  override name = 'InvalidIdentityError'
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

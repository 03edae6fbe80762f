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

/** A peer answered that it is at its stream cap. */
export class PeerBusyError extends Error {
  override name = 'PeerBusyError'
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

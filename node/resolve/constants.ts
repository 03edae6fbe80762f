/**
 * Longest one tier may take to fetch one blob for the read path. Fetches are shared by every
 * caller waiting for the digest, so they are not bound to any one caller's deadline; this bound
 * (and the node's shutdown) is what ends a fetch that nobody waits for any more. Five minutes
 * covers a multi-GB blob from a slow central; a stalled peer is cut off much sooner by its own
 * stall timeout.
 */
export const TIER_FETCH_TIMEOUT_MS = 5 * 60_000

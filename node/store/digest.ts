import { createHash } from 'node:crypto'
import { InvalidDigestError } from './errors.js'

/** A content digest: lower-case hex SHA-256 plus the blob's size in bytes. */
export interface Digest {
  readonly hash: string
  readonly sizeBytes: number
}

/** SHA-256 of zero bytes: the empty blob, which every CAS always holds. */
export const EMPTY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

/** The digest of the empty blob. */
export const EMPTY_DIGEST: Digest = Object.freeze({ hash: EMPTY_HASH, sizeBytes: 0 })

const HASH_PATTERN = /^[0-9a-f]{64}$/

/** True when `digest` names the empty blob. */
export function isEmptyDigest (digest: Digest): boolean {
  return digest.sizeBytes === 0 && digest.hash === EMPTY_HASH
}

/**
 * Checks that a hash/size pair is a well-formed SHA-256 digest and returns it normalised.
 * Throws {@link InvalidDigestError} naming the problem otherwise.
 */
export function validateDigest (hash: unknown, sizeBytes: unknown, what = 'digest'): Digest {
  if (typeof hash !== 'string') throw new InvalidDigestError(`${what}: hash is missing`)
  if (!HASH_PATTERN.test(hash)) {
    if (hash.length !== 64) {
      throw new InvalidDigestError(`${what}: hash "${truncate(hash)}" has ${hash.length} characters; a SHA-256 hash has 64 lower-case hex digits`)
    }
    throw new InvalidDigestError(`${what}: hash "${truncate(hash)}" is not lower-case hex`)
  }
  const size = typeof sizeBytes === 'string' ? Number(sizeBytes) : sizeBytes
  if (typeof size !== 'number' || !Number.isSafeInteger(size)) {
    throw new InvalidDigestError(`${what}: size ${String(sizeBytes)} of ${hash} is not an integer`)
  }
  if (size < 0) throw new InvalidDigestError(`${what}: size ${size} of ${hash} is negative`)
  if (size === 0 && hash !== EMPTY_HASH) {
    throw new InvalidDigestError(`${what}: size 0 with hash ${hash}; the only blob of size 0 is ${EMPTY_HASH}`)
  }
  return { hash, sizeBytes: size }
}

/** Parses `HASH/SIZE` (as printed by `peercas put`). */
export function parseDigestString (text: string): Digest {
  const slash = text.indexOf('/')
  if (slash < 0) throw new InvalidDigestError(`"${truncate(text)}" is not HASH/SIZE`)
  return validateDigest(text.slice(0, slash), Number(text.slice(slash + 1)), text)
}

/** Formats a digest as `HASH/SIZE`. */
export function formatDigest (digest: Digest): string {
  return `${digest.hash}/${digest.sizeBytes}`
}

/**
 * Splits digests, in order, into groups of at most `maxCount` digests and `maxBytes` of blob
 * size in total (a digest larger than `maxBytes` gets a group of its own). For batched requests.
 */
export function batchDigests (digests: readonly Digest[], { maxBytes, maxCount }: { maxBytes: number, maxCount: number }): Digest[][] {
  const batches: Digest[][] = []
  let current: Digest[] = []
  let bytes = 0
  for (const digest of digests) {
    if (current.length > 0 && (bytes + digest.sizeBytes > maxBytes || current.length >= maxCount)) {
      batches.push(current)
      current = []
      bytes = 0
    }
    current.push(digest)
    bytes += digest.sizeBytes
  }
  if (current.length > 0) batches.push(current)
  return batches
}

/** Computes the digest of bytes held in memory. */
export function digestOf (data: Uint8Array): Digest {
  return { hash: createHash('sha256').update(data).digest('hex'), sizeBytes: data.byteLength }
}

function truncate (text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

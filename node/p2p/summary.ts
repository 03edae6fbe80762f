import { MAX_SUMMARY_BYTES, MAX_SUMMARY_HASHES, MIN_SUMMARY_CAPACITY, SUMMARY_FALSE_POSITIVE_RATE } from './constants.js'
import { UnsupportedSummaryError } from './errors.js'

/** The summary format this node builds and understands. */
export const SUMMARY_VERSION = 1

/** Size and hash count of a Bloom filter. */
export interface BloomParams {
  /** Bits; a multiple of 8. */
  bits: number
  hashes: number
}

/**
 * The smallest Bloom filter holding `capacity` keys at `falsePositiveRate`, capped at
 * {@link MAX_SUMMARY_BYTES} (beyond that the rate degrades instead of the size growing).
 */
export function bloomParamsFor (capacity: number, falsePositiveRate = SUMMARY_FALSE_POSITIVE_RATE): BloomParams {
  if (!(falsePositiveRate > 0 && falsePositiveRate < 1)) throw new RangeError(`false-positive rate ${falsePositiveRate} is not between 0 and 1`)
  const n = Math.max(MIN_SUMMARY_CAPACITY, Math.ceil(capacity))
  const ideal = Math.ceil(n * bitsPerKey(falsePositiveRate))
  const bits = Math.min(MAX_SUMMARY_BYTES * 8, Math.ceil(ideal / 64) * 64)
  const hashes = Math.max(1, Math.min(MAX_SUMMARY_HASHES, Math.round(bits / n * Math.LN2)))
  return { bits, hashes }
}

/** Bits per key of a filter sized for `falsePositiveRate` at its capacity: −ln p / ln² 2. */
export function bitsPerKey (falsePositiveRate = SUMMARY_FALSE_POSITIVE_RATE): number {
  return -Math.log(falsePositiveRate) / (Math.LN2 * Math.LN2)
}

/** Throws {@link UnsupportedSummaryError} unless `params` are within the caps. */
export function checkBloomParams (params: BloomParams): void {
  if (!Number.isSafeInteger(params.bits) || params.bits <= 0 || params.bits % 8 !== 0 || params.bits > MAX_SUMMARY_BYTES * 8) {
    throw new UnsupportedSummaryError(`summary of ${params.bits} bits is outside 8..${MAX_SUMMARY_BYTES * 8} or not a multiple of 8`)
  }
  if (!Number.isInteger(params.hashes) || params.hashes < 1 || params.hashes > MAX_SUMMARY_HASHES) {
    throw new UnsupportedSummaryError(`summary with ${params.hashes} hash functions is outside 1..${MAX_SUMMARY_HASHES}`)
  }
}

/**
 * A Bloom filter over SHA-256 digests. SHA-256 output is already uniform, so the k bit
 * positions come from double hashing two 52-bit slices of the digest itself (no re-hashing).
 */
export class BloomFilter {
  readonly bits: number
  readonly hashes: number
  readonly data: Uint8Array

  constructor (params: BloomParams, data?: Uint8Array) {
    checkBloomParams(params)
    this.bits = params.bits
    this.hashes = params.hashes
    this.data = data ?? new Uint8Array(params.bits / 8)
    if (this.data.byteLength !== params.bits / 8) throw new UnsupportedSummaryError(`summary data is ${this.data.byteLength} bytes, expected ${params.bits / 8}`)
  }

  /** Adds a digest, given as 64 lower-case hex digits. */
  add (hash: string): void {
    const [a, b] = this.seeds(hash)
    for (let i = 0; i < this.hashes; i++) {
      const bit = (a + i * b) % this.bits
      this.data[bit >>> 3]! |= 1 << (bit & 7)
    }
  }

  /** True if the digest may have been added; false if it certainly was not. */
  has (hash: string): boolean {
    const [a, b] = this.seeds(hash)
    for (let i = 0; i < this.hashes; i++) {
      const bit = (a + i * b) % this.bits
      if ((this.data[bit >>> 3]! & (1 << (bit & 7))) === 0) return false
    }
    return true
  }

  /** Size of the bit array in bytes (what goes on the wire). */
  get byteLength (): number { return this.data.byteLength }

  private seeds (hash: string): [number, number] {
    const h1 = parseInt(hash.slice(0, 13), 16)
    const h2 = parseInt(hash.slice(13, 26), 16)
    // Reduced first so that a + i·b stays an exact integer (< 2^33 · 17).
    return [h1 % this.bits, (h2 % this.bits) | 1]
  }
}

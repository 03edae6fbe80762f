/**
 * A Bloom filter over SHA-256 digests, the model of a peer's availability summary used by the
 * gossip simulation. Digests are uniformly random already, so the k bit positions come straight
 * from the hash bytes (Kirsch–Mitzenmacher double hashing on two 32-bit words), no re-hashing.
 */
export class BloomFilter {
  readonly bits: Uint8Array
  readonly mBits: number

  constructor (mBits: number, readonly k: number) {
    if (!(mBits > 0) || !(k > 0)) throw new RangeError(`bloom filter needs m > 0 and k > 0, got m=${mBits} k=${k}`)
    this.mBits = Math.ceil(mBits / 8) * 8
    this.bits = new Uint8Array(this.mBits / 8)
  }

  /** A filter sized for `n` items at false-positive rate `p`: m = −n·ln p / ln²2, k = m/n·ln 2. */
  static forCapacity (n: number, p: number): BloomFilter {
    const m = Math.ceil(-n * Math.log(p) / (Math.LN2 * Math.LN2))
    return new BloomFilter(m, Math.max(1, Math.round((m / n) * Math.LN2)))
  }

  /** Bytes on the wire / in memory. */
  get byteLength (): number { return this.bits.byteLength }

  add (hash: Uint8Array): void {
    const [h1, h2] = words(hash)
    for (let i = 0; i < this.k; i++) {
      const bit = (h1 + i * h2) % this.mBits
      this.bits[bit >>> 3]! |= 1 << (bit & 7)
    }
  }

  has (hash: Uint8Array): boolean {
    const [h1, h2] = words(hash)
    for (let i = 0; i < this.k; i++) {
      const bit = (h1 + i * h2) % this.mBits
      if ((this.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false
    }
    return true
  }

  /** Theoretical false-positive rate after `n` insertions: (1 − e^(−kn/m))^k. */
  expectedFpRate (n: number): number {
    return (1 - Math.exp(-this.k * n / this.mBits)) ** this.k
  }
}

function words (hash: Uint8Array): [number, number] {
  const h1 = ((hash[0]! << 24) | (hash[1]! << 16) | (hash[2]! << 8) | hash[3]!) >>> 0
  // Odd (so the k positions differ) and unsigned: `| 1` alone would make it a negative int32.
  const h2 = ((hash[4]! << 24) | (hash[5]! << 16) | (hash[6]! << 8) | hash[7]! | 1) >>> 0
  return [h1, h2]
}

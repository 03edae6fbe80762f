import { describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { BloomFilter, bloomParamsFor } from '../../node/p2p/summary.js'
import { fromBlobRef, toBlobRef, digestToCid } from '../../node/p2p/cid.js'
import { digestOf } from '../../node/store/digest.js'
import { MAX_SUMMARY_BYTES } from '../../node/p2p/constants.js'

// Digests are SHA-256 outputs, i.e. uniform: random 32-byte strings model them exactly.
const pool = randomBytes(32 * 300_000)
let next = 0
function randomHash (): string {
  return pool.toString('hex', 32 * next, 32 * ++next)
}

describe('availability summary', () => {
  it('has at most 0.15 % false positives at 100k blobs, at its capacity', () => {
    const n = 100_000
    const filter = new BloomFilter(bloomParamsFor(n))
    const added: string[] = []
    for (let i = 0; i < n; i++) { const h = randomHash(); added.push(h); filter.add(h) }
    for (const h of added) expect(filter.has(h)).toBe(true)
    let falsePositives = 0
    const probes = 200_000
    for (let i = 0; i < probes; i++) if (filter.has(randomHash())) falsePositives++
    const rate = falsePositives / probes
    console.log(`[summary] 100k blobs: ${filter.byteLength} bytes, ${filter.hashes} hashes, false-positive rate ${(rate * 100).toFixed(3)} %`)
    // Sized for 0.1 %; 200k probes put the 3-sigma band at ±0.02 %.
    expect(rate).toBeLessThanOrEqual(0.0015)
  })

  it('sizes a summary for 1M blobs at about 1.8 MB and never above the cap', () => {
    const params = bloomParamsFor(1_000_000)
    expect(params.bits / 8).toBeLessThan(1.85e6)
    expect(params.hashes).toBe(10)
    expect(bloomParamsFor(1e9).bits / 8).toBe(MAX_SUMMARY_BYTES)
  })

  it('rejects summary parameters outside the caps', () => {
    expect(() => new BloomFilter({ bits: MAX_SUMMARY_BYTES * 8 + 8, hashes: 7 })).toThrow(/summary of/)
    expect(() => new BloomFilter({ bits: 64, hashes: 99 })).toThrow(/hash functions/)
  })
})

describe('digests on the wire', () => {
  it('round-trips a digest through a raw sha2-256 CIDv1', () => {
    const digest = digestOf(Buffer.from('hello'))
    expect(digestToCid(digest).toString()).toMatch(/^bafkrei/)
    expect(fromBlobRef(toBlobRef(digest))).toEqual(digest)
  })

  it('rejects a CID that is not raw sha2-256 and a malformed one', () => {
    const ref = toBlobRef(digestOf(Buffer.from('x')))
    const dagPb = Uint8Array.from(ref.cid); dagPb[1] = 0x70
    expect(() => fromBlobRef({ cid: dagPb, size: 1 })).toThrow(/not a raw sha2-256/)
    expect(() => fromBlobRef({ cid: new Uint8Array([1, 2, 3]), size: 1 })).toThrow(/not a CID/)
    expect(() => fromBlobRef({ ...ref, size: -1 })).toThrow()
  })
})

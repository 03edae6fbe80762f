import { afterAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { startBarePeer, waitFor, type BarePeer } from '../helpers/p2p-nodes.js'

// A measurement, not a check: run with PEERCAS_BENCH=1. Two bare peers in this process on
// 127.0.0.1; one fetches 4 KiB blobs from the other, one at a time, through the peer tier.
const enabled = process.env.PEERCAS_BENCH === '1'

describe.skipIf(!enabled)('small-blob peer fetch latency (PEERCAS_BENCH=1)', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterAll(async () => { for (const c of cleanups.reverse()) await c().catch(() => {}) })

  it('prints the mean and median time of one 4 KiB peer fetch', async () => {
    const holder: BarePeer = await startBarePeer()
    cleanups.push(holder.stop)
    const count = 400
    const digests: Digest[] = []
    for (let i = 0; i < count; i++) {
      const data = randomBytes(4096)
      const digest = digestOf(data)
      await holder.store.put(digest, data)
      digests.push(digest)
    }
    const node = await startBarePeer({ peers: [holder.p2p.addresses[0]!] })
    cleanups.push(node.stop)
    await waitFor(() => digests.every((d) => node.p2p.candidates(d).length === 1), 'announcements')
    const times: number[] = []
    for (const digest of digests) {
      const started = performance.now()
      expect(await node.p2p.blobFetcher.fetchInto(digest, node.store, AbortSignal.timeout(10_000))).toBe(true)
      times.push(performance.now() - started)
    }
    const warm = times.slice(50).sort((a, b) => a - b)
    const mean = warm.reduce((a, b) => a + b, 0) / warm.length
    console.log(`[small-fetch] 4 KiB: mean ${mean.toFixed(2)} ms, median ${warm[warm.length >> 1]!.toFixed(2)} ms, p90 ${warm[Math.floor(warm.length * 0.9)]!.toFixed(2)} ms (${warm.length} fetches after 50 warm-up)`)
  }, 120_000)
})

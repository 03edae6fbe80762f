import { afterAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { reapi } from '../../node/reapi/protos.js'
import { referencedDigests } from '../../node/domain/action-result.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import type { P2pNode } from '../../node/p2p/p2p-node.js'
import { putBlobs, startBarePeer, waitFor, type BarePeer } from '../helpers/p2p-nodes.js'
import { actionResultName } from '../../node/domain/names.js'

// A measurement, not a check: run with PEERCAS_BENCH=1. Two bare peers in this process on
// 127.0.0.1; one fetches 4 KiB blobs from the other, one at a time, through the peer tier; and
// looks up action results (one 4 KiB output each) at the other, as a trusted peer, then makes
// sure the output is here (what GetActionResult does on a local miss).
const enabled = process.env.PEERCAS_BENCH === '1'

describe.skipIf(!enabled)('small-blob peer fetch latency (PEERCAS_BENCH=1)', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterAll(async () => { for (const c of cleanups.reverse()) await c().catch(() => {}) })

  it('prints the mean and median time of one 4 KiB peer fetch', async () => {
    const holder: BarePeer = await startBarePeer()
    cleanups.push(holder.stop)
    const count = 400
    const digests = (await putBlobs(holder, count, 4096)).map((b) => b.digest)
    const node = await startBarePeer({ peers: [holder.p2p.addresses[0]!] })
    cleanups.push(node.stop)
    await waitFor(() => digests.every((d) => node.p2p.candidates(d).length === 1), 'announcements')
    const times: number[] = []
    for (const digest of digests) {
      const started = performance.now()
      expect(await node.p2p.blobFetcher.fetchInto(digest, AbortSignal.timeout(10_000))).toBe(true)
      times.push(performance.now() - started)
    }
    const warm = times.slice(50).sort((a, b) => a - b)
    const mean = warm.reduce((a, b) => a + b, 0) / warm.length
    console.log(`[small-fetch] 4 KiB: mean ${mean.toFixed(2)} ms, median ${warm[warm.length >> 1]!.toFixed(2)} ms, p90 ${warm[Math.floor(warm.length * 0.9)]!.toFixed(2)} ms (${warm.length} fetches after 50 warm-up)`)
  }, 120_000)

  it('prints the throughput of 4 KiB peer fetches: 16 at once through the read path, and 16 per request', async () => {
    const holder: BarePeer = await startBarePeer()
    cleanups.push(holder.stop)
    const count = 800
    const digests = (await putBlobs(holder, count, 4096)).map((b) => b.digest)
    const node = await startBarePeer({ peers: [holder.p2p.addresses[0]!] })
    cleanups.push(node.stop)
    await waitFor(() => digests.every((d) => node.p2p.candidates(d).length === 1), 'announcements')
    const concurrent = digests.slice(0, count / 2)
    let started = performance.now()
    let next = 0
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < concurrent.length) {
        const digest = concurrent[next++]!
        expect(await node.p2p.blobFetcher.fetchInto(digest, AbortSignal.timeout(10_000))).toBe(true)
      }
    }))
    const concurrentMs = performance.now() - started
    // The same through one request per 16 blobs (what sync does), one request at a time.
    const client = (node.p2p as P2pNode).fetchClient
    const batched = digests.slice(count / 2)
    started = performance.now()
    for (let i = 0; i < batched.length; i += 16) {
      const wants = batched.slice(i, i + 16)
      const session = await client.open(holder.p2p.peerId, wants.map((digest) => ({ digest })), AbortSignal.timeout(10_000))
      try {
        for (const digest of wants) {
          const header = await session.header()
          expect(header.status).toBe('OK')
          const writer = node.store.createWriter(digest)
          for await (const chunk of session.body(header.length)) await writer.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          await writer.commit()
        }
      } finally {
        session.close()
      }
    }
    const batchedMs = performance.now() - started
    console.log(`[small-fetch] 4 KiB × ${count / 2}: 16 at once ${(concurrentMs / concurrent.length).toFixed(3)} ms/blob; 16 per request ${(batchedMs / batched.length).toFixed(3)} ms/blob`)
  }, 120_000)

  for (const maxInlineBytes of [0, 1024 * 1024]) {
    it(`prints the time of one action-result lookup plus its 4 KiB output (inline up to ${maxInlineBytes} bytes)`, async () => {
      const holder: BarePeer = await startBarePeer()
      cleanups.push(holder.stop)
      const count = 400
      const actions: Digest[] = []
      for (let i = 0; i < count; i++) {
        const data = randomBytes(4096)
        const digest = digestOf(data)
        await holder.store.put(digest, data)
        const action = digestOf(randomBytes(64))
        await holder.store.names.put(actionResultName('', action), reapi.ActionResult.serialize({ outputFiles: [{ path: 'out', digest }], exitCode: 0 }))
        actions.push(action)
      }
      const peer = await startBarePeer({ peers: [holder.p2p.addresses[0]!], trust: [holder.p2p.peerId], hooks: { maxInlineBytes } })
      cleanups.push(peer.stop)
      const { p2p, store } = peer
      await waitFor(() => p2p.peers().some((p) => p.connected && p.blobsAdvertised >= count), 'the summary')
      const times: number[] = []
      for (const action of actions) {
        const started = performance.now()
        const bytes = await p2p.nameFetcher.fetchNamed(actionResultName('', action), AbortSignal.timeout(10_000))
        for (const digest of referencedDigests(reapi.ActionResult.deserialize(bytes!)).blobs) {
          if (!(await store.has(digest))) expect(await p2p.blobFetcher.fetchInto(digest, AbortSignal.timeout(10_000))).toBe(true)
        }
        times.push(performance.now() - started)
      }
      const warm = times.slice(50).sort((a, b) => a - b)
      const mean = warm.reduce((a, b) => a + b, 0) / warm.length
      console.log(`[small-fetch] action lookup + 4 KiB output, inline ≤ ${maxInlineBytes} B: mean ${mean.toFixed(2)} ms, median ${warm[warm.length >> 1]!.toFixed(2)} ms, p90 ${warm[Math.floor(warm.length * 0.9)]!.toFixed(2)} ms (${warm.length} actions after 50 warm-up)`)
    }, 120_000)
  }
})

import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { unary } from '../../node/reapi/clients.js'
import { digestOf } from '../../node/store/digest.js'
import { startBarePeer, startP2pTestNode, waitFor, type BarePeer } from '../helpers/p2p-nodes.js'
import { startRawPeer } from '../helpers/raw-peer.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

describe('a peer that lies about content', () => {
  it('is banned, and the blob still arrives from an honest peer', async () => {
    const liar = await startRawPeer({ corrupt: (_d, _o, chunk) => { const c = Uint8Array.from(chunk); c[0]! ^= 0xff; return c } })
    cleanups.push(liar.stop)
    const honest = await startBarePeer()
    cleanups.push(honest.stop)
    const data = randomBytes(200_000)
    const { digest } = await liar.put(data)
    await honest.store.put(digest, data)
    // Connect to the liar first: with nothing measured yet, candidates keep arrival order, so
    // the liar is tried first.
    const node = await startP2pTestNode({ peers: [liar.addresses[0]!] })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.candidates(digest).length === 1, 'the liar to announce the blob')
    await node.p2p.dial(honest.p2p.addresses[0]!)
    await waitFor(() => node.p2p.candidates(digest).length === 2, 'both peers to announce the blob')
    expect(node.p2p.candidates(digest)).toEqual([liar.peerId, honest.p2p.peerId])
    const read = await unary(node.clients.cas.BatchReadBlobs.bind(node.clients.cas), { digests: [digest] })
    expect(read.responses[0]!.status!.code).toBe(0)
    expect(Buffer.compare(read.responses[0]!.data, data)).toBe(0)
    expect(liar.served.length).toBe(1)
    const status = node.p2p.peers().find((p) => p.peerId === liar.peerId)!
    expect(status.banned).toBe(true)
    expect(status.bannedUntilMs).toBeGreaterThan(Date.now())
    expect(status.bytesFetchedFrom).toBe(0)
    expect(node.p2p.peers().find((p) => p.peerId === honest.p2p.peerId)!.bytesFetchedFrom).toBe(data.byteLength)
    // A blob only the banned liar has (and announces) is not fetched from it.
    const { digest: onlyDigest } = await liar.put(randomBytes(1000))
    await waitFor(() => node.p2p.peers().find((p) => p.peerId === liar.peerId)!.blobsAdvertised === 2, 'the liar to announce the second blob')
    const again = await unary(node.clients.cas.BatchReadBlobs.bind(node.clients.cas), { digests: [onlyDigest] })
    expect(again.responses[0]!.status!.code).toBe(5)
    expect(await node.store.has(onlyDigest)).toBe(false)
    expect(liar.served.length).toBe(1)
    expect(node.p2p.peers().find((p) => p.peerId === liar.peerId)!.banned).toBe(true)
  })
})

describe('stale summaries', () => {
  it('tries the next candidate when a peer no longer has an advertised blob', async () => {
    const stale = await startBarePeer({ recentProtectionMs: 0 })
    cleanups.push(stale.stop)
    const holder = await startBarePeer()
    cleanups.push(holder.stop)
    const data = randomBytes(10_000)
    const digest = digestOf(data)
    await stale.store.put(digest, data)
    await holder.store.put(digest, data)
    const node = await startP2pTestNode({ peers: [stale.p2p.addresses[0]!, holder.p2p.addresses[0]!] })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.candidates(digest).length === 2, 'both peers to announce')
    await stale.store.evict(0)
    expect(await stale.store.has(digest)).toBe(false)
    const read = await unary(node.clients.cas.BatchReadBlobs.bind(node.clients.cas), { digests: [digest] })
    expect(Buffer.compare(read.responses[0]!.data, data)).toBe(0)
    expect(node.p2p.peers().every((p) => !p.banned)).toBe(true)
    // Re-summarising (periodic in production) withdraws the evicted blob from the node's view.
    await stale.p2p.resummarize()
    await waitFor(() => !node.p2p.candidates(digest).includes(stale.p2p.peerId), 'the fresh summary to drop the evicted blob')
    expect(node.p2p.candidates(digest)).toEqual([holder.p2p.peerId])
  })
})

export type { BarePeer }

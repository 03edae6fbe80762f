import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { digestOf } from '../../node/store/digest.js'
import { readBlob, startBarePeer, startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import { startRawPeer } from '../helpers/raw-peer.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

describe('large blobs from several peers', () => {
  it('fetches pieces from two peers at once and verifies the whole blob', async () => {
    const data = randomBytes(40 * 1024 * 1024)
    const digest = digestOf(data)
    const peers = [await startBarePeer(), await startBarePeer()]
    for (const peer of peers) { cleanups.push(peer.stop); await peer.store.put(digest, data) }
    const node = await startP2pTestNode({ peers: peers.map((p) => p.p2p.addresses[0]!), p2p: { parallelFetchThreshold: '1MiB' } })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.candidates(digest).length === 2, 'both peers to announce the blob')
    expect((await readBlob(node, digest)).equals(data)).toBe(true)
    const fetched = node.p2p.peers().map((p) => p.bytesFetchedFrom)
    expect(fetched.every((n) => n > 0)).toBe(true)
    expect(fetched.reduce((a, b) => a + b, 0)).toBe(data.byteLength)
  })

  it('finds and bans a peer that corrupts one piece, and still delivers the blob', async () => {
    const data = randomBytes(24 * 1024 * 1024)
    const digest = digestOf(data)
    // Corrupts only bytes in the second half: it serves good pieces and one bad one.
    const liar = await startRawPeer({ corrupt: (_d, offset, chunk) => { if (offset < data.byteLength / 2) return chunk; const c = Uint8Array.from(chunk); c[0]! ^= 1; return c } })
    cleanups.push(liar.stop)
    await liar.put(data)
    const honest = await startBarePeer()
    cleanups.push(honest.stop)
    await honest.store.put(digest, data)
    const node = await startP2pTestNode({ peers: [honest.p2p.addresses[0]!, liar.addresses[0]!], p2p: { parallelFetchThreshold: '1MiB' } })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.candidates(digest).length === 2, 'both peers to announce the blob')
    expect((await readBlob(node, digest)).equals(data)).toBe(true)
    const status = new Map(node.p2p.peers().map((p) => [p.peerId, p]))
    expect(status.get(liar.peerId)!.banned).toBe(true)
    expect(status.get(honest.p2p.peerId)!.banned).toBe(false)
  })
})

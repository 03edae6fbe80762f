import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { byteStreamRead, unary } from '../../node/reapi/clients.js'
import { digestOf } from '../../node/store/digest.js'
import { startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import type { TestNode } from '../helpers/node.js'
import type { P2pService } from '../../node/p2p/index.js'

type P2pNode = TestNode & { p2p: P2pService }

async function readAll (node: TestNode, digest: { hash: string, sizeBytes: number }): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const response of byteStreamRead(node.clients.byteStream, digest)) parts.push(response.data)
  return Buffer.concat(parts)
}

describe('peer fetch between three nodes', () => {
  let a: P2pNode
  let b: P2pNode
  let c: P2pNode

  beforeAll(async () => {
    a = await startP2pTestNode()
    b = await startP2pTestNode({ peers: [a.p2p.addresses[0]!] })
    c = await startP2pTestNode({ peers: [a.p2p.addresses[0]!, b.p2p.addresses[0]!] })
    await waitFor(() => c.p2p.peers().filter((p) => p.connected).length === 2, 'C to connect to A and B')
  })
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.stop()])
  })

  it('reads a blob written on A through the socket of C', async () => {
    const data = randomBytes(300_000)
    const digest = digestOf(data)
    await a.store.put(digest, data)
    await waitFor(() => c.p2p.candidates(digest).includes(a.p2p.peerId), 'A to announce the blob to C')
    expect(await readAll(c, digest)).toEqual(data)
    expect(c.resolver.counters.peerHits).toBe(1)
    expect(await c.store.has(digest)).toBe(true)
  })

  it('shares one transfer among ten concurrent reads of the same missing digest', async () => {
    const data = randomBytes(2_000_000)
    const digest = digestOf(data)
    await a.store.put(digest, data)
    await waitFor(() => c.p2p.candidates(digest).includes(a.p2p.peerId), 'A to announce the blob to C')
    const servedBefore = a.p2p.peers().find((p) => p.peerId === c.p2p.peerId)!.bytesServedTo
    const hitsBefore = c.resolver.counters.peerHits
    const reads = await Promise.all(Array.from({ length: 10 }, async () => await readAll(c, digest)))
    for (const r of reads) expect(r.equals(data)).toBe(true)
    expect(c.resolver.counters.peerHits - hitsBefore).toBe(1)
    const servedAfter = a.p2p.peers().find((p) => p.peerId === c.p2p.peerId)!.bytesServedTo
    expect(servedAfter - servedBefore).toBe(data.byteLength)
  })

  it('answers BatchReadBlobs from a peer and still reports the blob missing to FindMissingBlobs before that', async () => {
    const data = randomBytes(1000)
    const digest = digestOf(data)
    await b.store.put(digest, data)
    await waitFor(() => c.p2p.candidates(digest).includes(b.p2p.peerId), 'B to announce the blob to C')
    const missing = await unary(c.clients.cas.FindMissingBlobs.bind(c.clients.cas), { blobDigests: [digest] })
    expect(missing.missingBlobDigests.map((d) => d.hash)).toEqual([digest.hash])
    const read = await unary(c.clients.cas.BatchReadBlobs.bind(c.clients.cas), { digests: [digest] })
    expect(read.responses[0]!.status!.code).toBe(0)
    expect(Buffer.compare(read.responses[0]!.data, data)).toBe(0)
  })

  it('announces a fetched blob onward so a third node can get it from the fetcher', async () => {
    const data = randomBytes(5000)
    const digest = digestOf(data)
    await a.store.put(digest, data)
    await waitFor(() => c.p2p.candidates(digest).includes(a.p2p.peerId), 'A to announce')
    await readAll(c, digest)
    await waitFor(() => b.p2p.candidates(digest).includes(c.p2p.peerId), 'C to announce the fetched blob to B')
  })

  it('lists peers with addresses, advertised blobs and bytes moved', () => {
    const peers = c.p2p.peers()
    const fromA = peers.find((p) => p.peerId === a.p2p.peerId)!
    expect(fromA.connected).toBe(true)
    expect(fromA.addresses[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
    expect(fromA.blobsAdvertised).toBeGreaterThanOrEqual(3)
    expect(fromA.bytesFetchedFrom).toBeGreaterThan(2_000_000)
    expect(fromA.banned).toBe(false)
  })

  it('misses cleanly when no peer has the blob', async () => {
    const digest = digestOf(randomBytes(100))
    const read = await unary(c.clients.cas.BatchReadBlobs.bind(c.clients.cas), { digests: [digest] })
    expect(read.responses[0]!.status!.code).toBe(5)
  })
})

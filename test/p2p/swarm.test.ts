// Large blobs fetched from a swarm: fresh nodes fetching the same blob at once take pieces from
// each other (each verified against the holder's piece map first), and a lying piece source is
// banned while the blob still arrives whole.
import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { digestOf } from '../../node/store/digest.js'
import { startBarePeer, waitFor, type BarePeer } from '../helpers/p2p-nodes.js'
import { startRawPeer } from '../helpers/raw-peer.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

async function readAll (peer: BarePeer, digest: { hash: string, sizeBytes: number }): Promise<Buffer> {
  const stream = await peer.store.openReadStream(digest)
  const parts: Buffer[] = []
  for await (const chunk of stream! as AsyncIterable<Buffer>) parts.push(chunk)
  return Buffer.concat(parts)
}

/** Starts `count` fresh fetchers peered with `holder` and with each other (a LAN full mesh). */
async function startFetchers (holder: BarePeer, count: number): Promise<BarePeer[]> {
  const fetchers: BarePeer[] = []
  for (let i = 0; i < count; i++) {
    const f = await startBarePeer({ peers: [holder.p2p.addresses[0]!] })
    cleanups.push(f.stop)
    for (const other of fetchers) await f.p2p.dial(other.p2p.addresses[0]!)
    fetchers.push(f)
  }
  return fetchers
}

describe('swarm fetch of a large blob', () => {
  it('has fetchers take pieces from each other, so the holder serves far less than a copy each', async () => {
    // The holder's upload is capped, as on a LAN: a star would send it 4 copies.
    const holder = await startBarePeer({ p2p: { maxServeRate: '24MB' } })
    cleanups.push(holder.stop)
    const data = randomBytes(24 * 1024 * 1024)
    const digest = digestOf(data)
    await holder.store.put(digest, data)
    const fetchers = await startFetchers(holder, 4)
    await waitFor(() => fetchers.every((f) => f.p2p.candidates(digest).length === 1), 'every fetcher to learn the holder has the blob')
    const results = await Promise.all(fetchers.map(async (f) => await f.p2p.blobFetcher.fetchInto(digest, AbortSignal.timeout(60_000))))
    expect(results).toEqual([true, true, true, true])
    for (const f of fetchers) expect((await readAll(f, digest)).equals(data)).toBe(true)
    const fromHolder = holder.p2p.peers().reduce((sum, p) => sum + p.bytesServedTo, 0)
    const fromFetchers = fetchers.reduce((sum, f) => sum + f.p2p.peers().reduce((s, p) => s + p.bytesServedTo, 0), 0)
    console.log(`[swarm] holder served ${(fromHolder / data.byteLength).toFixed(2)} copies, fetchers ${(fromFetchers / data.byteLength).toFixed(2)}`)
    // Without the swarm the holder would serve 4 copies. The first fetcher to ask finds nobody else
    // fetching and fetches the plain way (written once, no piece hashes), so it shares nothing.
    expect(fromHolder).toBeLessThan(3.25 * data.byteLength)
    expect(fromFetchers).toBeGreaterThan(data.byteLength)
  }, 120_000)

  it('bans a swarm member that serves a wrong piece, and fetches that piece elsewhere', async () => {
    const holder = await startBarePeer({ p2p: { maxServeRate: '16MB' } })
    cleanups.push(holder.stop)
    const data = randomBytes(20 * 1024 * 1024)
    const digest = digestOf(data)
    await holder.store.put(digest, data)
    const liar = await startRawPeer({ corrupt: (_d, _o, chunk) => { const c = Uint8Array.from(chunk); c[7]! ^= 0x01; return c } })
    cleanups.push(liar.stop)
    const holderId = await liar.dial(holder.p2p.addresses[0]!)
    const [fetcher] = await startFetchers(holder, 1)
    await liar.dial(fetcher!.p2p.addresses[0]!)
    // The liar poses as another fetcher: the holder names it, it claims every piece.
    await liar.joinSwarm(holderId, data)
    await waitFor(() => fetcher!.p2p.candidates(digest).length === 1, 'the fetcher to learn the holder has the blob')
    expect(await fetcher!.p2p.blobFetcher.fetchInto(digest, AbortSignal.timeout(60_000))).toBe(true)
    expect((await readAll(fetcher!, digest)).equals(data)).toBe(true)
    expect(liar.served.length).toBeGreaterThan(0)
    expect(fetcher!.p2p.peers().find((p) => p.peerId === liar.peerId)!.banned).toBe(true)
    expect(fetcher!.p2p.peers().find((p) => p.peerId === holder.p2p.peerId)!.banned).toBe(false)
  }, 120_000)

  it('bans a holder whose piece map lies once the assembled blob fails its digest, and stores nothing', async () => {
    const data = randomBytes(20 * 1024 * 1024)
    const digest = digestOf(data)
    const other = randomBytes(data.byteLength)
    const liar = await startRawPeer()
    cleanups.push(liar.stop)
    const fetcher = await startBarePeer({ peers: [liar.addresses[0]!] })
    cleanups.push(fetcher.stop)
    // Every piece it serves matches its map; the whole does not match the digest. It names itself
    // as fetching too, so the fetcher takes the swarm path rather than a plain fetch.
    await liar.holdWithLyingMap(digest, other, [liar.peerId])
    await waitFor(() => fetcher.p2p.candidates(digest).length === 1, 'the fetcher to learn the liar has the blob')
    expect(await fetcher.p2p.blobFetcher.fetchInto(digest, AbortSignal.timeout(60_000))).toBe(false)
    expect(await fetcher.store.has(digest)).toBe(false)
    expect(fetcher.p2p.peers().find((p) => p.peerId === liar.peerId)!.banned).toBe(true)
    expect(liar.served.length).toBeGreaterThan(0)
  }, 120_000)

  it('does not ban a swarm member whose true pieces contradict a lying piece map', async () => {
    const data = randomBytes(20 * 1024 * 1024)
    const digest = digestOf(data)
    const liar = await startRawPeer()
    cleanups.push(liar.stop)
    const honest = await startRawPeer()
    cleanups.push(honest.stop)
    const fetcher = await startBarePeer({ peers: [liar.addresses[0]!] })
    cleanups.push(fetcher.stop)
    await honest.dial(fetcher.p2p.addresses[0]!)
    await honest.dial(liar.addresses[0]!)
    // The liar's map names the honest peer as fetching; the honest peer claims every piece and
    // serves the true bytes, which do not match the lying map.
    await liar.holdWithLyingMap(digest, randomBytes(data.byteLength), [honest.peerId])
    await honest.joinSwarm(liar.peerId, data)
    await waitFor(() => fetcher.p2p.candidates(digest).length === 1, 'the fetcher to learn the liar has the blob')
    expect(await fetcher.p2p.blobFetcher.fetchInto(digest, AbortSignal.timeout(60_000))).toBe(false)
    expect(honest.served.length).toBeGreaterThan(0)
    expect(fetcher.p2p.peers().find((p) => p.peerId === liar.peerId)!.banned).toBe(true)
    expect(fetcher.p2p.peers().find((p) => p.peerId === honest.peerId)?.banned ?? false).toBe(false)
    expect(await fetcher.store.has(digest)).toBe(false)
  }, 120_000)
})

import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { createHost } from '../../node/p2p/host.js'
import { StreamReader, frame } from '../../node/p2p/framing.js'
import { messages, type BlobHeaderMessage } from '../../node/p2p/messages.js'
import { toBlobRef } from '../../node/p2p/cid.js'
import { silentLogger } from '../../node/log/logger.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { FETCH_PROTOCOL, FETCH_STREAM_PROTOCOL } from '../../node/p2p/constants.js'
import { FetchClient } from '../../node/p2p/fetch-client.js'
import { PeerBook } from '../../node/p2p/peer-book.js'
import type { P2pNode } from '../../node/p2p/p2p-node.js'
import { putBlobs, startBarePeer, waitFor, type BarePeer } from '../helpers/p2p-nodes.js'
import { startRawPeer, type RawBlob, type RawPeer } from '../helpers/raw-peer.js'
import { TEST_TEAM_KEY } from '../helpers/team-key.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

async function peer (options: { peers?: string[], p2p?: Record<string, unknown> } = {}): Promise<BarePeer & { node: P2pNode }> {
  const started = await startBarePeer(options)
  cleanups.push(started.stop)
  return Object.assign(started, { node: started.p2p as P2pNode })
}

async function rawPeer (init: Parameters<typeof startRawPeer>[0] = {}): Promise<RawPeer> {
  const started = await startRawPeer(init)
  cleanups.push(started.stop)
  return started
}

/** Random blobs of `size` bytes held by a raw peer. */
async function rawBlobs (raw: RawPeer, count: number, size: number): Promise<RawBlob[]> {
  const blobs: RawBlob[] = []
  for (let i = 0; i < count; i++) blobs.push(await raw.put(randomBytes(size)))
  return blobs
}

/**
 * Open fetch streams (either protocol version) at `at`: `inbound` are the ones it serves,
 * `outbound` the ones its fetch client holds.
 */
function fetchStreams (at: BarePeer, direction: 'inbound' | 'outbound'): Stream[] {
  return (at.p2p as P2pNode).libp2p.getConnections().flatMap((c) => c.streams)
    .filter((s) => s.direction === direction && s.status === 'open' && (s.protocol === FETCH_STREAM_PROTOCOL || s.protocol === FETCH_PROTOCOL))
}

async function fetchFromPeers (node: BarePeer, digest: Digest): Promise<boolean> {
  return await node.p2p.blobFetcher.fetchInto(digest, AbortSignal.timeout(10_000))
}

async function expectStored (node: BarePeer, blob: { digest: Digest, data: Buffer }): Promise<void> {
  expect((await node.store.read(blob.digest))?.equals(blob.data)).toBe(true)
}

describe('reusable fetch streams (/peercas/fetch/1.1.0)', () => {
  it('carries many sequential small fetches from one peer over one stream', async () => {
    const holder = await peer()
    const blobs = await putBlobs(holder, 100, 4096)
    const node = await peer({ peers: [holder.p2p.addresses[0]!] })
    await waitFor(() => blobs.every((b) => node.p2p.candidates(b.digest).length === 1), 'announcements')
    for (const blob of blobs) expect(await fetchFromPeers(node, blob.digest)).toBe(true)
    for (const blob of blobs) await expectStored(node, blob)
    expect(node.node.fetchClient.streamsOpened).toBe(1)
    expect(node.node.fetchClient.idleStreams(holder.p2p.peerId)).toBe(1)
    expect(fetchStreams(node, 'outbound').map((s) => s.protocol)).toEqual([FETCH_STREAM_PROTOCOL])
    await waitFor(() => holder.node.fetchServer.idleStreams === 1, 'the holder to keep the stream idle')
    expect(fetchStreams(holder, 'inbound').map((s) => s.protocol)).toEqual([FETCH_STREAM_PROTOCOL])
  })

  it('opens at most the per-peer stream cap for concurrent fetches and reuses them for the next burst', async () => {
    const holder = await peer()
    const blobs = await putBlobs(holder, 120, 4096)
    const node = await peer({ peers: [holder.p2p.addresses[0]!], p2p: { maxStreamsPerPeer: 4 } })
    await waitFor(() => blobs.every((b) => node.p2p.candidates(b.digest).length === 1), 'announcements')
    const firstBurst = blobs.slice(0, 60)
    expect(await Promise.all(firstBurst.map(async (b) => await fetchFromPeers(node, b.digest)))).toEqual(firstBurst.map(() => true))
    expect(node.node.fetchClient.streamsOpened).toBeLessThanOrEqual(4)
    const secondBurst = blobs.slice(60)
    expect(await Promise.all(secondBurst.map(async (b) => await fetchFromPeers(node, b.digest)))).toEqual(secondBurst.map(() => true))
    for (const blob of blobs) await expectStored(node, blob)
    // 120 fetches, 4 at a time; the idle pool (4) keeps every stream of the first burst.
    expect(node.node.fetchClient.streamsOpened).toBeLessThanOrEqual(4)
  })

  it('bans a peer that lies on a reused stream, and the blob still comes from an honest peer', async () => {
    const target = randomBytes(20_000)
    const targetDigest = digestOf(target)
    const liar = await rawPeer({
      corrupt: (digest, _offset, chunk) => {
        if (digest.hash !== targetDigest.hash) return chunk
        const c = Uint8Array.from(chunk)
        c[0]! ^= 0xff
        return c
      }
    })
    const honest = await peer()
    await liar.put(target)
    await honest.store.put(targetDigest, target)
    const warmUp = await rawBlobs(liar, 30, 4096)
    const node = await peer({ peers: [liar.addresses[0]!] })
    await waitFor(() => [targetDigest, ...warmUp.map((b) => b.digest)].every((d) => node.p2p.candidates(d).length === 1), 'the liar to announce')
    // Honest answers from the liar, all on one reused stream.
    for (const blob of warmUp) expect(await fetchFromPeers(node, blob.digest)).toBe(true)
    expect(liar.served.length).toBe(1)
    const stream = liar.served[0]!
    expect(stream.status).toBe('open')

    // The lie comes on that reused stream: banned, nothing stored, the stream aborted, not kept.
    expect(await fetchFromPeers(node, targetDigest)).toBe(false)
    expect(await node.store.has(targetDigest)).toBe(false)
    expect(node.p2p.peers().find((p) => p.peerId === liar.peerId)!.banned).toBe(true)
    expect(liar.served.length).toBe(1)
    expect(node.node.fetchClient.idleStreams(liar.peerId)).toBe(0)
    await waitFor(() => stream.status !== 'open', 'the liar\'s stream to be closed', 2000)

    // An honest peer joins: the blob comes from it (the banned liar is not asked again).
    await node.p2p.dial(honest.p2p.addresses[0]!)
    await waitFor(() => node.p2p.candidates(targetDigest).includes(honest.p2p.peerId), 'the honest peer to announce the blob')
    expect(await fetchFromPeers(node, targetDigest)).toBe(true)
    await expectStored(node, { digest: targetDigest, data: target })
    expect(liar.served.length).toBe(1)
    expect(node.node.fetchClient.streamsOpened).toBe(2)
    expect(node.p2p.peers().find((p) => p.peerId === honest.p2p.peerId)!.bytesFetchedFrom).toBe(target.byteLength)
  })

  it('fetches from a node that speaks only /peercas/fetch/1.0.0, one stream per fetch, and remembers that', async () => {
    const old = await rawPeer({ fetchProtocols: [FETCH_PROTOCOL] })
    const blobs = await rawBlobs(old, 10, 4096)
    const node = await peer({ peers: [old.addresses[0]!] })
    await waitFor(() => blobs.every((b) => node.p2p.candidates(b.digest).length === 1), 'announcements')
    for (const blob of blobs) expect(await fetchFromPeers(node, blob.digest)).toBe(true)
    for (const blob of blobs) await expectStored(node, blob)
    expect(old.served.length).toBe(10)
    expect(old.served.every((s) => s.protocol === FETCH_PROTOCOL)).toBe(true)
    expect(node.node.fetchClient.speaksOnlyLegacy(old.peerId)).toBe(true)
    expect(node.node.fetchClient.idleStreams(old.peerId)).toBe(0)
  })

  it('serves a node that speaks only /peercas/fetch/1.0.0', async () => {
    const holder = await peer()
    const blobs = await putBlobs(holder, 5, 4096)
    const old = await rawPeer()
    await old.dial(holder.p2p.addresses[0]!)
    for (const blob of blobs) {
      const fetched = await old.fetchOnce(holder.p2p.peerId, blob.digest)
      expect(fetched.protocol).toBe(FETCH_PROTOCOL)
      expect(fetched.header.status).toBe('OK')
      expect(fetched.data.equals(blob.data)).toBe(true)
    }
    // Each stream was closed after its answer: none is kept idle.
    await waitFor(() => fetchStreams(holder, 'inbound').length === 0, 'the holder to close every 1.0.0 stream', 2000)
    expect(holder.node.fetchServer.idleStreams).toBe(0)
  })

  it('closes an idle stream after the idle timeout, and the next fetch opens a new one', async () => {
    const holder = await peer()
    const blobs = await putBlobs(holder, 2, 4096)
    // A fetch client with a short idle timeout, on a host of its own.
    const host = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, staticPeers: [], teamKey: TEST_TEAM_KEY, logger: silentLogger })
    await host.start()
    cleanups.push(async () => { await host.stop() })
    const client = new FetchClient({ libp2p: host.libp2p, book: new PeerBook({ maxStreamsPerPeer: 8, maxServeRatePerPeer: 0 }), logger: silentLogger, stallTimeoutMs: 30_000, maxStreamsPerPeer: 8, streamIdleMs: 300 })
    cleanups.push(async () => { client.close() })
    await host.libp2p.dial(multiaddr(holder.p2p.addresses[0]!))
    const holderId = holder.p2p.peerId
    const fetch = async (blob: { digest: Digest, data: Buffer }): Promise<void> => {
      const got = await client.fetchRange(holderId, blob.digest, 0, blob.digest.sizeBytes, AbortSignal.timeout(10_000))
      expect(Buffer.isBuffer(got) && got.equals(blob.data)).toBe(true)
    }
    await fetch(blobs[0]!)
    const fetched = Date.now()
    expect(client.idleStreams(holderId)).toBe(1)
    const stream = host.libp2p.getConnections().flatMap((c) => c.streams).find((s) => s.protocol === FETCH_STREAM_PROTOCOL)!
    await waitFor(() => stream.status === 'closed', 'the idle stream to close', 5000)
    expect(Date.now() - fetched).toBeGreaterThanOrEqual(250)
    expect(client.idleStreams(holderId)).toBe(0)
    await waitFor(() => holder.node.fetchServer.idleStreams === 0, 'the server to let go of the stream', 2000)
    await fetch(blobs[1]!)
    expect(client.streamsOpened).toBe(2)
  })

  it('drops a stream the server closed while idle, and the next fetch neither fails nor penalises the peer', async () => {
    // The server gives up on idle streams after its stall timeout (600 ms), long before the client would.
    const holder = await peer({ p2p: { fetchTimeout: '600ms' } })
    const blobs = await putBlobs(holder, 2, 4096)
    const node = await peer({ peers: [holder.p2p.addresses[0]!] })
    await waitFor(() => blobs.every((b) => node.p2p.candidates(b.digest).length === 1), 'announcements')
    expect(await fetchFromPeers(node, blobs[0]!.digest)).toBe(true)
    const [stream] = fetchStreams(node, 'outbound')
    expect(stream).toBeDefined()
    await waitFor(() => stream!.status === 'closed', 'the server to close the idle stream', 5000)
    await waitFor(() => node.node.fetchClient.idleStreams(holder.p2p.peerId) === 0, 'the client to drop it', 2000)
    expect(await fetchFromPeers(node, blobs[1]!.digest)).toBe(true)
    await expectStored(node, blobs[1]!)
    expect(node.node.fetchClient.streamsOpened).toBe(2)
    // Not cooling down: still a candidate.
    expect(node.p2p.candidates(blobs[1]!.digest)).toEqual([holder.p2p.peerId])
  })

  it('aborts a stream whose fetch was abandoned mid-body, and the next fetch on that peer gets the right bytes', async () => {
    // Paced at 1 MB/s, so a 4 MiB body is far from done when it is abandoned.
    const holder = await peer({ p2p: { maxServeRatePerPeer: 1_000_000 } })
    const [big] = await putBlobs(holder, 1, 4 * 1024 * 1024)
    const small = await putBlobs(holder, 3, 4096)
    const node = await peer({ peers: [holder.p2p.addresses[0]!] })
    await waitFor(() => [big!, ...small].every((b) => node.p2p.candidates(b.digest).length === 1), 'announcements')
    const client = node.node.fetchClient
    const holderId = holder.p2p.peerId

    // Abandoned by the reader: header and one piece read, then closed.
    const session = await client.open(holderId, [{ digest: big!.digest }], AbortSignal.timeout(10_000))
    const header = await session.header()
    expect(header.status).toBe('OK')
    expect(fetchStreams(holder, 'inbound')).toHaveLength(1)
    const body = session.body(header.length)
    const piece = await body.next()
    expect(piece.done).toBe(false)
    await body.return(undefined)
    session.close()
    expect(client.idleStreams(holderId)).toBe(0)
    await waitFor(() => fetchStreams(holder, 'inbound').length === 0, 'the abandoned stream to be aborted at the holder', 2000)
    expect(await fetchFromPeers(node, small[0]!.digest)).toBe(true)
    await expectStored(node, small[0]!)
    expect(client.streamsOpened).toBe(2)

    // Abandoned by the caller's signal, through the read path (on the stream small[0] left idle).
    const controller = new AbortController()
    const fetching = node.p2p.blobFetcher.fetchInto(big!.digest, controller.signal)
    await new Promise((resolve) => setTimeout(resolve, 300))
    controller.abort(new Error('caller went away'))
    await expect(fetching).rejects.toThrow()
    expect(await node.store.has(big!.digest)).toBe(false)
    expect(client.idleStreams(holderId)).toBe(0)
    await waitFor(() => fetchStreams(holder, 'inbound').length === 0, 'the stream of the cancelled fetch to be aborted at the holder', 2000)
    expect(await fetchFromPeers(node, small[1]!.digest)).toBe(true)
    await expectStored(node, small[1]!)
    expect(client.streamsOpened).toBe(3)
    // That peer did nothing wrong.
    expect(node.p2p.candidates(small[2]!.digest)).toEqual([holderId])
    expect(await fetchFromPeers(node, small[2]!.digest)).toBe(true)
    expect(client.streamsOpened).toBe(3)
  })
})

describe('a peer misusing /peercas/fetch/1.1.0', () => {
  /** A raw libp2p host connected to `target`, speaking the fetch protocol by hand. */
  async function attackerOf (target: BarePeer): Promise<{ open: () => Promise<{ stream: Stream, reader: StreamReader }> }> {
    const host = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, staticPeers: [], teamKey: TEST_TEAM_KEY, logger: silentLogger })
    await host.start()
    cleanups.push(async () => { await host.stop() })
    const address = multiaddr(target.p2p.addresses[0]!)
    await host.libp2p.dial(address)
    return {
      open: async () => {
        const stream = await host.libp2p.dialProtocol(address, FETCH_STREAM_PROTOCOL)
        return { stream, reader: new StreamReader(stream, { stallTimeoutMs: 5000 }) }
      }
    }
  }
  const request = (...digests: Digest[]): Uint8Array => frame(messages.fetchRequest.encode({ wants: digests.map((d) => ({ blob: toBlobRef(d), offset: 0, length: 0 })) })).subarray()
  const header = async (reader: StreamReader): Promise<BlobHeaderMessage> => messages.blobHeader.decode((await reader.readFrame(1024 * 1024))!)
  const body = async (reader: StreamReader, length: number): Promise<Buffer> => {
    const pieces: Uint8Array[] = []
    for await (const piece of reader.readBytes(length)) pieces.push(Uint8Array.from(piece))
    return Buffer.concat(pieces)
  }

  it('answers request after request on one stream, and resets it on an oversized frame', async () => {
    const holder = await peer()
    const blobs = await putBlobs(holder, 3, 10_000)
    const { open } = await attackerOf(holder)
    const { stream, reader } = await open()
    for (const blob of blobs) {
      stream.send(request(blob.digest))
      const h = await header(reader)
      expect(h.status).toBe('OK')
      expect((await body(reader, h.length)).equals(blob.data)).toBe(true)
    }
    // A varint for 100 MiB: the cap check fires on the length alone, on a reused stream too.
    stream.send(Uint8Array.from([0x80, 0x80, 0x80, 0x32, 1, 2, 3]))
    expect(await reader.readFrame(1024)).toBeUndefined()
    await waitFor(() => stream.status !== 'open', 'the stream to be reset', 2000)
    await waitFor(() => fetchStreams(holder, 'inbound').length === 0, 'the holder to drop the stream', 2000)
  })

  it('keeps at most maxStreamsPerPeer idle streams of one peer, closing the longest idle first', async () => {
    // A long stall timeout: idle streams are closed here by the bound, not by the timeout.
    const holder = await peer({ p2p: { maxStreamsPerPeer: 2, fetchTimeout: '20s' } })
    const [blob] = await putBlobs(holder, 1, 10_000)
    const { open } = await attackerOf(holder)
    const held: Array<{ stream: Stream, reader: StreamReader }> = []
    for (let i = 0; i < 5; i++) {
      held.push(await open())
      // The server took the stream: it is idle there, or (over the bound) the longest idle one was ended.
      if (i < 2) await waitFor(() => holder.node.fetchServer.idleStreams === i + 1, 'the server to take the stream', 2000)
      else await waitFor(() => held[i - 2]!.stream.remoteWriteStatus === 'closed', 'the server to end its longest idle stream', 2000)
    }
    // The three opened first are ended by the server (its side closed; nothing sent).
    for (const { stream, reader } of held.slice(0, 3)) {
      expect(await reader.readFrame(1024)).toBeUndefined()
      expect(stream.remoteWriteStatus).toBe('closed')
    }
    expect(holder.node.fetchServer.idleStreams).toBe(2)
    // The two newest still work.
    for (const { stream, reader } of held.slice(3)) {
      stream.send(request(blob!.digest))
      const h = await header(reader)
      expect(h.status).toBe('OK')
      expect((await body(reader, h.length)).equals(blob!.data)).toBe(true)
    }
    // An honest peer is served meanwhile.
    const node = await peer({ peers: [holder.p2p.addresses[0]!] })
    await waitFor(() => node.p2p.candidates(blob!.digest).length === 1, 'announcements')
    expect(await fetchFromPeers(node, blob!.digest)).toBe(true)
  })

  it('answers BUSY to every want of a request beyond the per-peer cap, and the stream stays usable', async () => {
    // One request at a time per peer; the 4 MiB answer is paced at 1 MB/s, so it holds the slot.
    const holder = await peer({ p2p: { maxStreamsPerPeer: 1, maxServeRatePerPeer: 1_000_000 } })
    const [big] = await putBlobs(holder, 1, 4 * 1024 * 1024)
    const small = await putBlobs(holder, 2, 1000)
    const { open } = await attackerOf(holder)
    const first = await open()
    first.stream.send(request(big!.digest))
    expect((await header(first.reader)).status).toBe('OK')
    const second = await open()
    for (let i = 0; i < 2; i++) {
      second.stream.send(request(small[0]!.digest, small[1]!.digest))
      expect((await header(second.reader)).status).toBe('BUSY')
      expect((await header(second.reader)).status).toBe('BUSY')
    }
    // Giving up on the first answer frees the slot (an aborted stream is never idle).
    first.stream.abort(new Error('gave up'))
    let statuses: string[] = []
    for (let attempt = 0; attempt < 50; attempt++) {
      second.stream.send(request(small[0]!.digest, small[1]!.digest))
      statuses = []
      for (const blob of small) {
        const h = await header(second.reader)
        statuses.push(h.status)
        if (h.status === 'OK') expect((await body(second.reader, h.length)).equals(blob.data)).toBe(true)
      }
      if (statuses[0] !== 'BUSY') break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(statuses).toEqual(['OK', 'OK'])
  })
})

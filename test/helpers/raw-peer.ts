import type { PeerId, Stream } from '@libp2p/interface'
import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createHost, type Host } from '../../node/p2p/host.js'
import {
  ACTION_RESULT_PROTOCOL, ACTION_RESULT_STREAM_PROTOCOL, AVAILABILITY_CONTROLLED_PROTOCOL, AVAILABILITY_PROTOCOL, FETCH_PROTOCOL,
  FETCH_STREAM_PROTOCOL, MAX_CONTROL_FRAME_BYTES, PIECES_PROTOCOL, SEND_CHUNK_BYTES, SUMMARY_HEADROOM
} from '../../node/p2p/constants.js'
import { Bitfield, pieceBytesFor, pieceCount } from '../../node/p2p/swarm.js'
import { fromBlobRef, toBlobRef } from '../../node/p2p/cid.js'
import { StreamReader, send, sendFrame } from '../../node/p2p/framing.js'
import { messages, type ActionResultResponseMessage, type BlobHeaderMessage } from '../../node/p2p/messages.js'
import { BloomFilter, bloomParamsFor, SUMMARY_VERSION } from '../../node/p2p/summary.js'
import { silentLogger } from '../../node/log/logger.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { TEST_TEAM_KEY } from './team-key.js'

/** How a {@link RawPeer} misbehaves; by default it is an honest (if minimal) peer. */
export interface RawPeerInit {
  /**
   * Rewrites what it serves — fetch bodies, chunk by chunk, and inline blobs in action-result
   * answers: a liar. `offset` is the position of `chunk` in the blob.
   */
  corrupt?: (digest: Digest, offset: number, chunk: Uint8Array) => Uint8Array
  /** Reads each fetch request and action-result lookup, then never answers (a hung peer). */
  stall?: boolean
  /** Announces a summary with every bit set: claims to hold every blob. */
  advertiseEverything?: boolean
  /**
   * Fetch protocols it serves. @default both; `[FETCH_PROTOCOL]` is a node from before
   * /peercas/fetch/1.1.0.
   */
  fetchProtocols?: string[]
  /** The team key it holds. @default the test nodes' key; `null`: none (an outsider). */
  teamKey?: Uint8Array | null
  /**
   * To a request that accepts zstd chunks, answer with these chunk payloads (kind byte + data, see
   * BodyEncoding in p2p.proto) for the (possibly corrupted) bytes of a want: a compressing peer,
   * honest or not. Without it the raw peer is a node from before compression.
   */
  encodeBody?: (digest: Digest, offset: number, bytes: Uint8Array) => Uint8Array[]
}

/** A blob a raw peer holds. */
export interface RawBlob { digest: Digest, data: Buffer }

/**
 * A bare libp2p host that speaks the peercas wire protocols by hand (frames from
 * node/p2p/framing.ts, messages from node/p2p/messages.ts), with none of the node's checks, caps
 * or pacing: the misbehaving peer of a test. It announces what it holds over
 * /peercas/avail/1.0.0 to every peer that connects, serves the fetch protocols and action-result
 * lookups from memory, and can ask as an old node would.
 */
export interface RawPeer {
  readonly host: Host
  readonly peerId: string
  /** Multiaddrs it listens on, with /p2p/ID. */
  readonly addresses: string[]
  /** Every fetch stream other peers opened to it, in order. */
  readonly served: Stream[]
  /** Holds a blob; announces it (a delta) to connected peers. */
  put(data: Buffer): Promise<RawBlob>
  /** Holds an action result; a lookup that asks for inline blobs gets `inline` with it. */
  putActionResult(instanceName: string, action: Digest, result: Uint8Array, inline?: RawBlob[]): void
  /** Dials a peer by multiaddr; resolves its peer ID. */
  dial(address: string): Promise<string>
  /**
   * Looks up an action result at `peer` over /peercas/ac/1.0.0. Without `maxInlineBytes` the
   * request carries no such field, as from a node from before it.
   */
  lookup(peer: string, instanceName: string, action: Digest, maxInlineBytes?: number): Promise<ActionResultResponseMessage>
  /**
   * Poses as a node fetching `data` from a swarm: asks `holder` for its piece map (so the holder
   * names it to other fetchers), claims every piece over /peercas/pieces/1.0.0 and serves ranges
   * of `data` (through `corrupt`, if set) without announcing the blob.
   */
  joinSwarm(holder: string, data: Buffer): Promise<void>
  /**
   * Poses as a holder of `digest` whose bytes are `bytes` (the digest's size, other content):
   * announces it, serves `bytes` for it, and answers piece-map requests with the SHA-256 of
   * `bytes`' pieces and `swarm` as the peers fetching it now — a piece map that lies.
   */
  holdWithLyingMap(digest: Digest, bytes: Buffer, swarm: string[]): Promise<void>
  /** Fetches a whole blob from `peer` over /peercas/fetch/1.0.0, one request per stream. */
  fetchOnce(peer: string, digest: Digest): Promise<{ header: BlobHeaderMessage, data: Buffer, protocol: string }>
  stop(): Promise<void>
}

/** Largest frame a raw peer reads as an asker. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024
/** Generation of every summary a raw peer sends (it sends one per connection). */
const GENERATION = 1

/** Starts a {@link RawPeer} on 127.0.0.1 (mDNS off). */
export async function startRawPeer (init: RawPeerInit = {}): Promise<RawPeer> {
  const host = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, staticPeers: [], teamKey: init.teamKey === null ? undefined : init.teamKey ?? TEST_TEAM_KEY, logger: silentLogger })
  const libp2p = host.libp2p
  const blobs = new Map<string, RawBlob>()
  const results = new Map<string, { result: Uint8Array, inline: RawBlob[] }>()
  const served: Stream[] = []
  /** Blobs it claims to be fetching from a swarm (served, never announced). */
  const swarmBlobs = new Map<string, RawBlob>()
  const lyingMaps = new Map<string, { bytes: Buffer, swarm: string[] }>()
  /** Our announcement stream to each peer, once its summary is sent. */
  const announcing = new Map<string, Promise<Stream | undefined>>()

  const closed = async (stream: Stream): Promise<void> => {
    if (stream.status !== 'open') return
    await new Promise((resolve) => { stream.addEventListener('close', resolve, { once: true }) })
  }
  const handle = async (protocol: string, serve: (stream: Stream, reusable: boolean) => Promise<void>, reusable: boolean): Promise<void> => {
    await libp2p.handle(protocol, (stream) => {
      void serve(stream, reusable).catch((error: Error) => { stream.abort(error) })
    }, { maxInboundStreams: 256, maxOutboundStreams: 256 })
  }

  const serveFetch = async (stream: Stream, reusable: boolean): Promise<void> => {
    served.push(stream)
    const reader = new StreamReader(stream, { stallTimeoutMs: 0 })
    for (;;) {
      const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
      if (bytes === undefined) { await stream.close(); return }
      const request = messages.fetchRequest.decode(bytes)
      if (init.stall === true) { await closed(stream); return }
      for (const want of request.wants) {
        const digest = fromBlobRef(want.blob)
        const blob = blobs.get(digest.hash) ?? swarmBlobs.get(digest.hash)
        if (blob === undefined) {
          await sendFrame(stream, messages.blobHeader.encode({ status: 'NOT_FOUND', offset: want.offset, length: 0, message: '' }))
          continue
        }
        const length = want.length === 0 ? digest.sizeBytes - want.offset : want.length
        if (init.encodeBody !== undefined && request.acceptEncodings.includes('ZSTD_CHUNKS')) {
          await sendFrame(stream, messages.blobHeader.encode({ status: 'OK', offset: want.offset, length, message: '', encoding: 'ZSTD_CHUNKS' }))
          const bytes = blob.data.subarray(want.offset, want.offset + length)
          for (const payload of init.encodeBody(digest, want.offset, init.corrupt === undefined ? bytes : init.corrupt(digest, want.offset, bytes))) await sendFrame(stream, payload)
          continue
        }
        await sendFrame(stream, messages.blobHeader.encode({ status: 'OK', offset: want.offset, length, message: '' }))
        for (let at = want.offset; at < want.offset + length; at += SEND_CHUNK_BYTES) {
          const chunk = blob.data.subarray(at, Math.min(at + SEND_CHUNK_BYTES, want.offset + length))
          await send(stream, init.corrupt === undefined ? chunk : init.corrupt(digest, at, chunk))
        }
      }
      if (!reusable) { await stream.close(); return }
    }
  }

  const serveLookups = async (stream: Stream, reusable: boolean): Promise<void> => {
    const reader = new StreamReader(stream, { stallTimeoutMs: 0 })
    for (;;) {
      const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
      if (bytes === undefined) { await stream.close(); return }
      const request = messages.actionResultRequest.decode(bytes)
      if (init.stall === true) { await closed(stream); return }
      const entry = results.get(`${request.instanceName}/${fromBlobRef(request.action).hash}`)
      const inline = entry === undefined || (request.maxInlineBytes ?? 0) === 0
        ? []
        : entry.inline.map(({ digest, data }) => ({ blob: toBlobRef(digest), data: init.corrupt === undefined ? data : init.corrupt(digest, 0, data) }))
      await sendFrame(stream, messages.actionResultResponse.encode({ found: entry !== undefined, actionResult: entry?.result ?? new Uint8Array(0), inlineBlobs: inline }))
      if (!reusable) { await stream.close(); return }
    }
  }

  /** Reads and drops what a peer announces to us. */
  const ignore = async (stream: Stream): Promise<void> => {
    const reader = new StreamReader(stream, { stallTimeoutMs: 0 })
    while (await reader.readFrame(MAX_ANSWER_BYTES) !== undefined) { /* dropped */ }
  }

  /** Sends our summary to a peer that just connected, over /peercas/avail/1.0.0. */
  const announce = async (peer: PeerId): Promise<Stream | undefined> => {
    try {
      const stream = await libp2p.dialProtocol(peer, AVAILABILITY_PROTOCOL)
      const filter = new BloomFilter(bloomParamsFor(blobs.size * SUMMARY_HEADROOM))
      for (const hash of blobs.keys()) filter.add(hash)
      if (init.advertiseEverything === true) filter.data.fill(0xff)
      await sendFrame(stream, messages.availability.encode({ summaryStart: { version: SUMMARY_VERSION, generation: GENERATION, bits: filter.bits, hashes: filter.hashes, blobCount: blobs.size } }))
      await sendFrame(stream, messages.availability.encode({ summaryPart: { generation: GENERATION, offset: 0, data: filter.data } }))
      return stream
    } catch {
      return undefined
    }
  }

  await handle(FETCH_STREAM_PROTOCOL, serveFetch, true)
  await handle(FETCH_PROTOCOL, serveFetch, false)
  for (const protocol of [FETCH_STREAM_PROTOCOL, FETCH_PROTOCOL]) {
    if (init.fetchProtocols !== undefined && !init.fetchProtocols.includes(protocol)) await libp2p.unhandle(protocol)
  }
  await handle(PIECES_PROTOCOL, async (stream) => {
    const reader = new StreamReader(stream, { stallTimeoutMs: 0 })
    const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
    if (bytes === undefined) { await stream.close(); return }
    const request = messages.pieceMapRequest.decode(bytes)
    const digest = fromBlobRef(request.blob)
    const lying = lyingMaps.get(digest.hash)
    if (lying !== undefined) {
      const pieceBytes = pieceBytesFor(digest.sizeBytes)
      const count = pieceCount(digest.sizeBytes, pieceBytes)
      const hashes = request.wantHashes ? Array.from({ length: count }, (_, i) => createHash('sha256').update(lying.bytes.subarray(i * pieceBytes, (i + 1) * pieceBytes)).digest()) : []
      await sendFrame(stream, messages.pieceMap.encode({ status: 'OK', pieceBytes, pieceSha256: hashes, have: Bitfield.full(count).bytes, complete: true, swarm: lying.swarm }))
      await stream.close()
      return
    }
    const blob = swarmBlobs.get(digest.hash)
    if (blob === undefined) {
      await sendFrame(stream, messages.pieceMap.encode({ status: 'NOT_FOUND' }))
      await stream.close()
      return
    }
    const pieceBytes = pieceBytesFor(digest.sizeBytes)
    const have = Bitfield.full(pieceCount(digest.sizeBytes, pieceBytes))
    await sendFrame(stream, messages.pieceMap.encode({ status: 'OK', pieceBytes, have: have.bytes, complete: false }))
    await closed(stream)
  }, false)
  await handle(ACTION_RESULT_STREAM_PROTOCOL, serveLookups, true)
  await handle(ACTION_RESULT_PROTOCOL, serveLookups, false)
  await libp2p.handle([AVAILABILITY_CONTROLLED_PROTOCOL, AVAILABILITY_PROTOCOL], (stream) => { void ignore(stream).catch(() => {}) })
  libp2p.addEventListener('peer:connect', (event) => {
    const peer = event.detail
    announcing.set(peer.toString(), announce(peer))
  })
  libp2p.addEventListener('peer:disconnect', (event) => { announcing.delete(event.detail.toString()) })
  await host.start()

  return {
    host,
    peerId: libp2p.peerId.toString(),
    addresses: libp2p.getMultiaddrs().map((a) => a.toString()),
    served,
    async put (data) {
      const blob = { digest: digestOf(data), data }
      blobs.set(blob.digest.hash, blob)
      const delta = messages.availability.encode({ delta: { generation: GENERATION, added: [toBlobRef(blob.digest)] } })
      for (const opening of announcing.values()) {
        const stream = await opening
        if (stream?.status === 'open') await sendFrame(stream, delta)
      }
      return blob
    },
    async holdWithLyingMap (digest, bytes, swarm) {
      if (bytes.byteLength !== digest.sizeBytes) throw new RangeError('a lying holder serves bytes of the digest\'s size')
      blobs.set(digest.hash, { digest, data: bytes })
      lyingMaps.set(digest.hash, { bytes, swarm })
      const delta = messages.availability.encode({ delta: { generation: GENERATION, added: [toBlobRef(digest)] } })
      for (const opening of announcing.values()) {
        const stream = await opening
        if (stream?.status === 'open') await sendFrame(stream, delta)
      }
    },
    async joinSwarm (holder, data) {
      const digest = digestOf(data)
      swarmBlobs.set(digest.hash, { digest, data })
      const stream = await libp2p.dialProtocol(peerIdFromString(holder), PIECES_PROTOCOL)
      const reader = new StreamReader(stream, { stallTimeoutMs: 5000 })
      await sendFrame(stream, messages.pieceMapRequest.encode({ blob: toBlobRef(digest), wantHashes: false }))
      await reader.readFrame(MAX_ANSWER_BYTES)
      await stream.close()
    },
    putActionResult (instanceName, action, result, inline = []) {
      results.set(`${instanceName}/${action.hash}`, { result, inline })
    },
    async dial (address) {
      return (await libp2p.dial(multiaddr(address))).remotePeer.toString()
    },
    async lookup (peer, instanceName, action, maxInlineBytes) {
      const stream = await libp2p.dialProtocol(peerIdFromString(peer), ACTION_RESULT_PROTOCOL)
      const reader = new StreamReader(stream, { stallTimeoutMs: 5000 })
      await sendFrame(stream, messages.actionResultRequest.encode({ instanceName, action: toBlobRef(action), ...(maxInlineBytes === undefined ? {} : { maxInlineBytes }) }))
      const bytes = await reader.readFrame(MAX_ANSWER_BYTES)
      await stream.close()
      if (bytes === undefined) throw new Error(`peer ${peer} closed the lookup without an answer`)
      return messages.actionResultResponse.decode(bytes)
    },
    async fetchOnce (peer, digest) {
      const stream = await libp2p.dialProtocol(peerIdFromString(peer), FETCH_PROTOCOL)
      const reader = new StreamReader(stream, { stallTimeoutMs: 5000 })
      await sendFrame(stream, messages.fetchRequest.encode({ wants: [{ blob: toBlobRef(digest), offset: 0, length: 0 }] }))
      await stream.close()
      const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
      if (bytes === undefined) throw new Error(`peer ${peer} closed the fetch without an answer`)
      const header = messages.blobHeader.decode(bytes)
      const pieces: Uint8Array[] = []
      if (header.status === 'OK') for await (const piece of reader.readBytes(header.length)) pieces.push(Uint8Array.from(piece))
      return { header, data: Buffer.concat(pieces), protocol: stream.protocol }
    },
    async stop () {
      await host.stop()
    }
  }
}

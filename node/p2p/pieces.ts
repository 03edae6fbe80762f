import type { Libp2p } from 'libp2p'
import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { BlobReader } from '../store/index.js'
import { MAX_CONTROL_FRAME_BYTES, MAX_MAP_PIECES, PIECES_PROTOCOL } from './constants.js'
import { fromBlobRef, toBlobRef } from './cid.js'
import { MalformedFrameError, PeerMisbehavedError } from './errors.js'
import { StreamReader, sendFrame } from './framing.js'
import { messages, type PieceMapMessage, type PieceUpdateMessage } from './messages.js'
import { Bitfield, pieceBytesFor, pieceCount, type SwarmRegistry } from './swarm.js'

/** What {@link PieceProtocol} needs. */
export interface PieceProtocolInit {
  libp2p: Libp2p
  store: BlobReader
  registry: SwarmRegistry
  logger: Logger
  stallTimeoutMs: number
}

/** A peer's answer to a piece-map request, checked. */
export interface PeerPieceMap {
  pieceBytes: number
  /** Every piece's SHA-256 (asked for, from a node holding the whole blob), else empty. */
  hashes: Uint8Array[]
  /** Pieces the peer holds (all of them when `complete`). */
  have: Bitfield
  complete: boolean
  swarm: string[]
}

/** An open subscription to a peer's newly verified pieces. */
export interface PieceSubscription {
  readonly map: PeerPieceMap
  /** Piece indices as the peer verifies them; ends when the peer has them all or the stream ends. */
  updates(): AsyncGenerator<PieceUpdateMessage>
  close(): void
}

/** A peer that does not speak /peercas/pieces/1.0.0 (a node from before it). */
export class PiecesUnsupportedError extends Error {
  override name = 'PiecesUnsupportedError'
}

/**
 * /peercas/pieces/1.0.0: piece maps of large blobs (see p2p.proto). Serves this node's maps
 * (hashes computed from the store, pieces it has verified of blobs it is fetching, the peers
 * fetching a blob it holds) and asks peers for theirs.
 */
export class PieceProtocol {
  private readonly log: Logger

  constructor (private readonly init: PieceProtocolInit) {
    this.log = init.logger
  }

  async start (): Promise<void> {
    await this.init.libp2p.handle(PIECES_PROTOCOL, (stream, connection) => {
      void this.serve(stream, connection).catch((error) => {
        this.log.debug('piece map stream failed', { peer: connection.remotePeer.toString(), error })
        stream.abort(error as Error)
      })
    }, { maxInboundStreams: 64, maxOutboundStreams: 64 })
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const reader = new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs })
    const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
    if (bytes === undefined) { await stream.close(); return }
    const request = messages.pieceMapRequest.decode(bytes)
    const digest = fromBlobRef(request.blob)
    const { registry, store } = this.init
    const swarm = registry.noteMember(digest.hash, peer)
    const send = async (map: Partial<PieceMapMessage>): Promise<void> => {
      await sendFrame(stream, messages.pieceMap.encode(map), { stallTimeoutMs: this.init.stallTimeoutMs })
    }
    if (await store.has(digest)) {
      const map = request.wantHashes ? await registry.pieceMap(digest) : undefined
      await send({ status: 'OK', pieceBytes: map?.pieceBytes ?? pieceBytesFor(digest.sizeBytes), pieceSha256: map?.hashes ?? [], complete: true, swarm })
      await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) })
      return
    }
    const partial = registry.partial(digest.hash)
    if (partial === undefined) {
      await send({ status: 'NOT_FOUND', swarm })
      await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) })
      return
    }
    // Subscribe before the snapshot, so no piece verified in between is missed (repeats are harmless).
    const pending: Array<number | 'complete' | 'closed'> = []
    let wake: (() => void) | undefined
    const unsubscribe = request.subscribe ? partial.subscribe((event) => { pending.push(event); wake?.() }) : () => {}
    try {
      await send({ status: 'OK', pieceBytes: partial.pieceBytes, have: partial.have.bytes, complete: partial.have.complete, swarm })
      if (!request.subscribe || partial.have.complete) { await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) }); return }
      const ended = new Promise<void>((resolve) => { stream.addEventListener('close', () => { resolve() }, { once: true }); stream.addEventListener('remoteCloseWrite', () => { resolve() }, { once: true }) })
      for (;;) {
        if (pending.length === 0) {
          const more = new Promise<void>((resolve) => { wake = resolve })
          await Promise.race([more, ended])
          wake = undefined
          if (pending.length === 0) return
        }
        const events = pending.splice(0)
        const have = events.filter((e): e is number => typeof e === 'number')
        const complete = events.includes('complete')
        if (have.length > 0 || complete) await sendFrame(stream, messages.pieceUpdate.encode({ have, complete }), { stallTimeoutMs: this.init.stallTimeoutMs })
        if (complete || events.includes('closed')) { await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) }); return }
      }
    } finally {
      unsubscribe()
    }
  }

  /**
   * Asks `peer` for its piece map of `digest`; `undefined` if it neither holds nor fetches the
   * blob. Throws {@link PiecesUnsupportedError} for a peer that does not speak the protocol.
   */
  async getMap (peer: string, digest: Digest, options: { wantHashes: boolean, signal: AbortSignal }): Promise<PeerPieceMap | undefined> {
    const { stream, map } = await this.open(peer, digest, { wantHashes: options.wantHashes, subscribe: false }, options.signal)
    await stream.close({ signal: options.signal }).catch(() => { stream.abort(new Error('closing a piece map stream')) })
    return map
  }

  /** Subscribes to `peer`'s pieces of `digest`; `undefined` if it neither holds nor fetches it. */
  async subscribe (peer: string, digest: Digest, signal: AbortSignal): Promise<PieceSubscription | undefined> {
    const { stream, reader, map } = await this.open(peer, digest, { wantHashes: false, subscribe: true }, signal)
    if (map === undefined) { stream.abort(new Error('no map')); return undefined }
    const pieces = map.have.size
    return {
      map,
      async * updates () {
        if (map.complete) return
        for (;;) {
          const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
          if (bytes === undefined) return
          const update = messages.pieceUpdate.decode(bytes)
          if (update.have.some((i) => i >= pieces)) throw new PeerMisbehavedError(`peer ${peer} announced a piece past the ${pieces} of ${digest.hash}`)
          yield update
          if (update.complete) return
        }
      },
      close () { stream.abort(new Error('piece subscription closed')) }
    }
  }

  private async open (peer: string, digest: Digest, request: { wantHashes: boolean, subscribe: boolean }, signal: AbortSignal): Promise<{ stream: Stream, reader: StreamReader, map: PeerPieceMap | undefined }> {
    let stream: Stream
    try {
      stream = await this.init.libp2p.dialProtocol(peerIdFromString(peer), PIECES_PROTOCOL, { signal })
    } catch (error) {
      if ((error as Error).name === 'UnsupportedProtocolError') throw new PiecesUnsupportedError(`peer ${peer} does not speak ${PIECES_PROTOCOL}`, { cause: error })
      throw error
    }
    const onAbort = (): void => { stream.abort(new Error('piece map request aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const reader = new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs })
      await sendFrame(stream, messages.pieceMapRequest.encode({ blob: toBlobRef(digest), wantHashes: request.wantHashes, subscribe: request.subscribe }), { signal, stallTimeoutMs: this.init.stallTimeoutMs })
      const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
      if (bytes === undefined) throw new PeerMisbehavedError(`peer ${peer} closed a piece map stream without answering`)
      const answer = messages.pieceMap.decode(bytes)
      if (answer.status !== 'OK') return { stream, reader, map: undefined }
      return { stream, reader, map: checkMap(peer, digest, answer, request.wantHashes) }
    } catch (error) {
      stream.abort(error as Error)
      throw error
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }
}

function checkMap (peer: string, digest: Digest, answer: PieceMapMessage, wantHashes: boolean): PeerPieceMap {
  const pieceBytes = answer.pieceBytes
  if (!(Number.isSafeInteger(pieceBytes) && pieceBytes > 0)) throw new MalformedFrameError(`peer ${peer} sent a piece size of ${pieceBytes}`)
  const pieces = pieceCount(digest.sizeBytes, pieceBytes)
  if (pieces > MAX_MAP_PIECES) throw new PeerMisbehavedError(`peer ${peer} cut ${digest.hash} into ${pieces} pieces (at most ${MAX_MAP_PIECES})`)
  const hashes = answer.pieceSha256
  if (wantHashes && answer.complete && (hashes.length !== pieces || hashes.some((h) => h.byteLength !== 32))) {
    throw new PeerMisbehavedError(`peer ${peer} sent ${hashes.length} piece hashes for the ${pieces} pieces of ${digest.hash}`)
  }
  if (answer.have.byteLength > Math.ceil(pieces / 8)) throw new PeerMisbehavedError(`peer ${peer} sent a bitfield of ${answer.have.byteLength} bytes for ${pieces} pieces`)
  return {
    pieceBytes,
    hashes: wantHashes ? hashes : [],
    have: answer.complete ? Bitfield.full(pieces) : new Bitfield(pieces, answer.have),
    complete: answer.complete,
    swarm: answer.swarm.slice(0, 64)
  }
}

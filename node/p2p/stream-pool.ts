import type { Libp2p } from 'libp2p'
import type { PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from '../log/logger.js'
import { FETCH_IDLE_STREAMS_PER_PEER, FETCH_STREAM_IDLE_MS, IDLE_STREAM_CLOSE_GRACE_MS } from './constants.js'
import { StreamReader, closeGracefully } from './framing.js'
import { PeerMisbehavedError } from './errors.js'

/** An outbound stream and its reader (which must live as long as the stream: it buffers). */
export interface PooledStream {
  readonly peer: string
  readonly stream: Stream
  readonly reader: StreamReader
  /** The protocol the peer chose (one of the pool's). */
  readonly protocol: string
  /** Spoken with a reusable protocol: more requests may follow on it. */
  readonly reusable: boolean
  /** busy: a request uses it; idle: in the pool; gone: closed or aborted, its slot freed. */
  state: 'busy' | 'idle' | 'gone'
  idleTimer?: NodeJS.Timeout
}

/** A stream from {@link ReusableStreamPool.acquire}. */
export interface AcquiredStream {
  stream: PooledStream
  /** It served an earlier request (so it may have been closed by the peer meanwhile). */
  reused: boolean
}

/** One protocol a pool may speak. */
export interface PoolProtocol {
  readonly id: string
  /** Request after request on one stream (else one request per stream). */
  readonly reusable: boolean
}

/** What {@link ReusableStreamPool} needs. */
export interface ReusableStreamPoolInit {
  libp2p: Libp2p
  logger: Logger
  /**
   * The protocols, newest (preferred) first; older ones are what older nodes speak. New streams
   * propose them all in this order; see {@link PoolProtocol}.
   */
  protocols: readonly PoolProtocol[]
  /** The stall timeout of every read on a stream. */
  stallTimeoutMs: number
  /** Open streams (busy and idle) per peer; more requests wait. */
  maxStreamsPerPeer: number
  /** Idle streams kept per peer. @default {@link FETCH_IDLE_STREAMS_PER_PEER} */
  maxIdlePerPeer?: number
  /** An idle stream is closed after this long unused; at most half the stall timeout. @default {@link FETCH_STREAM_IDLE_MS} */
  idleMs?: number
}

/** Streams to one peer. */
interface PeerStreams {
  /** Streams open or being opened (busy + idle): at most maxStreamsPerPeer. */
  open: number
  /** Idle streams, most recently used last. */
  readonly idle: PooledStream[]
  /** Fetches waiting for a stream: given an idle stream, or `undefined` = a slot to open one. */
  readonly waiters: Array<(stream: PooledStream | undefined) => void>
}

/**
 * A client's outbound streams of one request/response protocol, per peer: at most
 * `maxStreamsPerPeer` open (busy or idle), and up to `maxIdlePerPeer` idle streams of the reusable
 * protocol kept for the next request (closed after `idleMs` unused). New streams propose every
 * protocol, newest first; a peer that answers with an older one is offered only that one and
 * older ones until it disconnects (it may come back upgraded). Only a stream whose last exchange completed cleanly comes back;
 * anything else is aborted. Used for fetches (/peercas/fetch/1.1.0) and action-result lookups
 * (/peercas/ac/2.0.0, 1.1.0, 1.0.0).
 */
export class ReusableStreamPool {
  private readonly peers = new Map<string, PeerStreams>()
  /** Peers that answered with an older protocol: the index of that protocol, while they stay connected. */
  private readonly downgraded = new Map<string, number>()
  private readonly maxIdle: number
  private readonly idleMs: number
  private readonly log: Logger
  private streamsOpened = 0

  constructor (private readonly init: ReusableStreamPoolInit) {
    if (init.protocols.length === 0) throw new RangeError('a stream pool needs at least one protocol')
    if (!(Number.isInteger(init.maxStreamsPerPeer) && init.maxStreamsPerPeer > 0)) throw new RangeError(`maxStreamsPerPeer must be a positive integer, got ${init.maxStreamsPerPeer}`)
    this.maxIdle = init.maxIdlePerPeer ?? FETCH_IDLE_STREAMS_PER_PEER
    if (!(Number.isInteger(this.maxIdle) && this.maxIdle >= 0)) throw new RangeError(`maxIdlePerPeer must be a non-negative integer, got ${this.maxIdle}`)
    this.idleMs = Math.min(init.idleMs ?? FETCH_STREAM_IDLE_MS, init.stallTimeoutMs / 2)
    if (!(this.idleMs > 0)) throw new RangeError(`idleMs must be positive, got ${this.idleMs}`)
    this.log = init.logger
    init.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
  }

  /** Streams opened so far, over all peers (each one paid a protocol negotiation). */
  get opened (): number { return this.streamsOpened }

  /** True once `peer` answered with an older protocol than the newest (until it disconnects). */
  isLegacy (peer: string): boolean { return this.downgraded.has(peer) }

  /** Idle streams kept for `peer` now. */
  idleCount (peer: string): number { return this.peers.get(peer)?.idle.length ?? 0 }

  /**
   * A stream to `peer` for one exchange: an idle one if any, else a new one once fewer than
   * `maxStreamsPerPeer` are open (waiting for a slot or an idle stream otherwise). Give it back
   * with {@link release}.
   */
  async acquire (peer: string, signal: AbortSignal): Promise<AcquiredStream> {
    signal.throwIfAborted()
    const streams = this.streamsOf(peer)
    const idle = this.takeIdle(streams)
    if (idle !== undefined) return { stream: idle, reused: true }
    if (streams.open < this.init.maxStreamsPerPeer) {
      streams.open++
    } else {
      const handed = await new Promise<PooledStream | undefined>((resolve, reject) => {
        const grant = (stream: PooledStream | undefined): void => { signal.removeEventListener('abort', onAbort); resolve(stream) }
        const onAbort = (): void => {
          const i = streams.waiters.indexOf(grant)
          if (i >= 0) streams.waiters.splice(i, 1)
          reject(signal.reason)
        }
        streams.waiters.push(grant)
        signal.addEventListener('abort', onAbort, { once: true })
      })
      if (handed !== undefined) return { stream: handed, reused: true }
    }
    try {
      return { stream: await this.openStream(peer, signal), reused: false }
    } catch (error) {
      this.freeSlot(peer, streams)
      throw error
    }
  }

  /**
   * Gives a stream back after an exchange. With `reuse` (the exchange completed: every header and
   * body read, nothing wrong) a 1.1.0 stream that is still open both ways with nothing unread goes
   * to a waiting fetch or the idle pool; otherwise it is aborted and its slot freed.
   */
  release (stream: PooledStream, reuse: boolean): void {
    if (stream.state !== 'busy') return
    const streams = this.streamsOf(stream.peer)
    if (reuse && usable(stream)) {
      const waiter = streams.waiters.shift()
      if (waiter !== undefined) { waiter(stream); return }
      if (streams.idle.length < this.maxIdle) {
        stream.state = 'idle'
        stream.idleTimer = setTimeout(() => { this.retire(stream) }, this.idleMs)
        stream.idleTimer.unref()
        streams.idle.push(stream)
        return
      }
      stream.state = 'gone'
      closeQuietly(stream.stream)
    } else {
      stream.state = 'gone'
      if (stream.stream.status === 'open') stream.stream.abort(new Error('stream not reusable'))
    }
    this.freeSlot(stream.peer, streams)
  }

  /** Closes every idle stream (at shutdown). */
  close (): void {
    this.init.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    for (const streams of [...this.peers.values()]) for (const stream of [...streams.idle]) this.retire(stream)
  }

  private streamsOf (peer: string): PeerStreams {
    let streams = this.peers.get(peer)
    if (streams === undefined) { streams = { open: 0, idle: [], waiters: [] }; this.peers.set(peer, streams) }
    return streams
  }

  /** The most recently used idle stream that is still usable; unusable ones are dropped. */
  private takeIdle (streams: PeerStreams): PooledStream | undefined {
    for (;;) {
      const stream = streams.idle.pop()
      if (stream === undefined) return undefined
      clearTimeout(stream.idleTimer)
      stream.state = 'busy'
      if (usable(stream)) return stream
      // Closed meanwhile, or the peer sent something nobody asked for.
      this.release(stream, false)
    }
  }

  /** Drops an idle stream (idle too long, or the peer ended it), closing it and freeing its slot. */
  private retire (stream: PooledStream): void {
    if (stream.state !== 'idle') return
    const streams = this.streamsOf(stream.peer)
    const i = streams.idle.indexOf(stream)
    if (i >= 0) streams.idle.splice(i, 1)
    clearTimeout(stream.idleTimer)
    stream.state = 'gone'
    closeQuietly(stream.stream)
    this.freeSlot(stream.peer, streams)
  }

  /**
   * A stream to `peer` closed: its slot goes to the next waiting fetch, if any; a peer left with
   * no streams and no waiters is forgotten (it may have disconnected meanwhile).
   */
  private freeSlot (peer: string, streams: PeerStreams): void {
    const waiter = streams.waiters.shift()
    if (waiter !== undefined) { waiter(undefined); return }
    streams.open--
    if (streams.open === 0 && streams.idle.length === 0 && this.peers.get(peer) === streams) this.peers.delete(peer)
  }

  private async openStream (peer: string, signal: AbortSignal): Promise<PooledStream> {
    const { protocols } = this.init
    const from = this.downgraded.get(peer) ?? 0
    const stream = await this.init.libp2p.dialProtocol(peerIdFromString(peer), protocols.slice(from).map((p) => p.id), { signal })
    this.streamsOpened++
    const chosen = protocols.findIndex((p) => p.id === stream.protocol)
    if (chosen < 0) {
      const error = new PeerMisbehavedError(`peer ${peer} chose protocol ${stream.protocol}, which was not offered`)
      stream.abort(error)
      throw error
    }
    if (chosen > from) {
      this.log.debug('peer speaks an older protocol; offering only that one and older from now on', { peer, protocol: stream.protocol })
      this.downgraded.set(peer, chosen)
    }
    const fetchStream: PooledStream = { peer, stream, reader: new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs }), protocol: stream.protocol, reusable: protocols[chosen]!.reusable, state: 'busy' }
    // The peer ended the stream (idle timeout, restart) or it broke while idle: drop it.
    const onEnd = (): void => { this.retire(fetchStream) }
    stream.addEventListener('close', onEnd)
    stream.addEventListener('remoteCloseWrite', onEnd)
    return fetchStream
  }

  private readonly onDisconnect = (event: CustomEvent<PeerId>): void => {
    const peer = event.detail.toString()
    // It may come back upgraded: negotiate afresh.
    this.downgraded.delete(peer)
    const streams = this.peers.get(peer)
    if (streams !== undefined && streams.open === 0 && streams.waiters.length === 0) this.peers.delete(peer)
  }
}

/** Open both ways, a reusable protocol, and nothing unasked-for buffered. */
function usable (stream: PooledStream): boolean {
  const s = stream.stream
  return stream.reusable && s.status === 'open' && s.writeStatus === 'writable' && s.remoteWriteStatus === 'writable' && stream.reader.buffered === 0
}

function closeQuietly (stream: Stream): void {
  void closeGracefully(stream, IDLE_STREAM_CLOSE_GRACE_MS)
}

import type { Libp2p } from 'libp2p'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { BlobSink } from '../store/index.js'
import { FETCH_IDLE_STREAMS_PER_PEER, FETCH_PROTOCOL, FETCH_STREAM_PROTOCOL, MAX_CONTROL_FRAME_BYTES, MAX_WANTS_PER_REQUEST, type FETCH_STREAM_IDLE_MS } from './constants.js'
import { toBlobRef } from './cid.js'
import { PeerMisbehavedError, PeerStalledError, UnexpectedEndError, isTransportError } from './errors.js'
import { ReusableStreamPool, type AcquiredStream, type PooledStream } from './stream-pool.js'
import { sendFrame } from './framing.js'
import { decodeChunks } from './compression.js'
import { messages, type BlobHeaderMessage } from './messages.js'
import type { PeerBook } from './peer-book.js'

/**
 * Streams one request is tried on when the peer ends them before answering (it closed an idle
 * stream as we reused it, or its idle bounds closed a new one): every idle stream, then new ones.
 */
const MAX_ATTEMPTS = FETCH_IDLE_STREAMS_PER_PEER + 2

/** A blob, or a byte range of one, to fetch. */
export interface RangeSpec {
  digest: Digest
  /** @default 0 */
  offset?: number
  /** Bytes from offset; absent = to the end. */
  length?: number
}

/** What happened to one wanted blob: stored, or the peer does not have it, or it is at its cap. */
export type FetchOutcome = 'ok' | 'not-found' | 'busy'

/** What {@link FetchClient} needs. */
export interface FetchClientInit {
  libp2p: Libp2p
  book: PeerBook
  logger: Logger
  /** A peer that sends nothing for this long is cut off. */
  stallTimeoutMs: number
  /** Open fetch streams (busy and idle) per peer; more fetches wait their turn. */
  maxStreamsPerPeer: number
  /** Idle reusable streams kept per peer. @default {@link FETCH_IDLE_STREAMS_PER_PEER} */
  maxIdleStreamsPerPeer?: number
  /** An idle stream is closed after this long unused. @default {@link FETCH_STREAM_IDLE_MS} */
  streamIdleMs?: number
  /** Accept zstd-compressed bodies (the server decides per body whether they pay). @default true */
  compression?: boolean
}

/** Options of {@link FetchClient.open} and the fetch methods. */
export interface FetchOptions {
  /**
   * Cut the peer off (a {@link PeerStalledError}) if its first header has not arrived this many
   * ms after the call, waiting for a stream slot included. At most, and by default, the stall timeout.
   */
  answerTimeoutMs?: number
}

/**
 * Streams the current want's body (`length` bytes) into `store` as `digest`, verified; nothing is
 * stored unless it matches (DigestMismatchError otherwise).
 */
export async function storeBody (session: FetchSession, length: number, digest: Digest, store: BlobSink): Promise<void> {
  const writer = store.createWriter(digest)
  try {
    for await (const chunk of session.body(length)) {
      await writer.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    }
    await writer.commit()
  } finally {
    await writer.abort()
  }
}

/** One request in flight: read headers and bodies in request order. */
export interface FetchSession {
  /** The next want's header. */
  header(): Promise<BlobHeaderMessage>
  /** The bytes of the current want (exactly `length`; restored if the body came compressed). */
  body(length: number): AsyncGenerator<Uint8Array>
  /** Ms from the call to the first header. */
  readonly firstByteMs: number
  /**
   * Ends the exchange. The stream is kept for the next request only if every header and body
   * was read and {@link fail} was not called; otherwise it is aborted.
   */
  close(): void
  /** Marks the exchange as failed (e.g. the bytes did not verify): its stream is never reused. */
  fail(): void
}

/**
 * The client side of the fetch protocols: /peercas/fetch/1.1.0 (streams reused for request after
 * request, from a small idle pool per peer) and, with peers that speak only that, 1.0.0 (one
 * request per stream). At most `maxStreamsPerPeer` streams are open to a peer; more fetches wait.
 * Every byte goes through the store's verifying writer. Each peer's first answer is timed into its
 * {@link PeerBook} latency; a stall, timeout or transport error (not caused by the caller's signal)
 * penalises the peer (`PeerBook.penalize`). A reused stream that turns out closed before the
 * answer (the peer ended it as we reused it) is retried on another stream, without penalty.
 */
export class FetchClient {
  private readonly pool: ReusableStreamPool
  private readonly log: Logger

  constructor (private readonly init: FetchClientInit) {
    this.pool = new ReusableStreamPool({
      libp2p: init.libp2p,
      logger: init.logger,
      protocols: [{ id: FETCH_STREAM_PROTOCOL, reusable: true }, { id: FETCH_PROTOCOL, reusable: false }],
      stallTimeoutMs: init.stallTimeoutMs,
      maxStreamsPerPeer: init.maxStreamsPerPeer,
      maxIdlePerPeer: init.maxIdleStreamsPerPeer,
      idleMs: init.streamIdleMs
    })
    this.log = init.logger
  }

  /** Fetch streams opened so far (each paid a protocol negotiation); for tests and diagnostics. */
  get streamsOpened (): number { return this.pool.opened }

  /** Idle reusable streams kept for `peer` now; for tests and diagnostics. */
  idleStreams (peer: string): number { return this.pool.idleCount(peer) }

  /** True once `peer` turned out to speak only /peercas/fetch/1.0.0 (remembered until it disconnects). */
  speaksOnlyLegacy (peer: string): boolean { return this.pool.isLegacy(peer) }

  /** Closes idle streams (at shutdown). */
  close (): void { this.pool.close() }

  /**
   * Sends the request for `wants` to `peer` on an idle stream or a new one, and waits for the
   * first header. Close the session when done with it.
   */
  async open (peer: string, wants: RangeSpec[], signal: AbortSignal, options: FetchOptions = {}): Promise<FetchSession> {
    if (wants.length === 0 || wants.length > MAX_WANTS_PER_REQUEST) throw new RangeError(`a fetch asks for 1..${MAX_WANTS_PER_REQUEST} blobs, not ${wants.length}`)
    const { book, stallTimeoutMs } = this.init
    const answerMs = Math.min(options.answerTimeoutMs ?? stallTimeoutMs, stallTimeoutMs)
    const started = performance.now()
    // Until the first header: the caller's signal, or our answer deadline.
    const answer = new AbortController()
    const answerTimer = setTimeout(() => { answer.abort(new PeerStalledError(`peer ${peer} did not answer a fetch within ${answerMs} ms`)) }, answerMs)
    const waiting = AbortSignal.any([signal, answer.signal])
    const failed = (error: unknown): never => {
      clearTimeout(answerTimer)
      // The caller gave up: says nothing about the peer.
      if (!signal.aborted) book.penalize(peer, Math.max(performance.now() - started, answerMs))
      throw answer.signal.aborted && !signal.aborted ? answer.signal.reason : error
    }
    const compression = this.init.compression !== false
    const request = messages.fetchRequest.encode({
      wants: wants.map((w) => ({ blob: toBlobRef(w.digest), offset: w.offset ?? 0, length: w.length ?? 0 })),
      acceptEncodings: compression ? ['ZSTD_CHUNKS'] : []
    })
    let fetchStream: PooledStream
    let first: Uint8Array
    let onAbort: () => void
    for (let attempt = 1; ; attempt++) {
      let acquired: AcquiredStream
      try {
        acquired = await this.pool.acquire(peer, waiting)
      } catch (error) {
        return failed(error)
      }
      const { stream: candidate, reused } = acquired
      let endedUnasked = false
      onAbort = () => { candidate.stream.abort(waiting.reason instanceof Error ? waiting.reason : new Error('fetch aborted')) }
      waiting.addEventListener('abort', onAbort, { once: true })
      try {
        await sendFrame(candidate.stream, request, { signal: waiting, stallTimeoutMs })
        if (!candidate.reusable) await candidate.stream.close({ signal: waiting })
        const bytes = await candidate.reader.readFrame(MAX_CONTROL_FRAME_BYTES)
        if (bytes === undefined) {
          // On 1.1.0 a server ends (never resets) a stream only while it waits for a request, so
          // a clean end before any answer means the request was not taken: ask again elsewhere.
          endedUnasked = candidate.reusable && candidate.stream.status === 'open'
          if (endedUnasked) throw new UnexpectedEndError(`peer ${peer} ended the fetch stream before answering (it closes streams it holds idle)`)
          throw new PeerMisbehavedError(`peer ${peer} closed the fetch stream before answering every want`)
        }
        fetchStream = candidate
        first = bytes
        break
      } catch (error) {
        waiting.removeEventListener('abort', onAbort)
        this.pool.release(candidate, false)
        if ((endedUnasked || (reused && isTransportError(error))) && !waiting.aborted && attempt < MAX_ATTEMPTS) {
          this.log.debug('the peer ended a fetch stream before our request reached it; asking on another one', { peer, error })
          continue
        }
        return failed(error)
      }
    }
    const firstByteMs = performance.now() - started
    clearTimeout(answerTimer)
    // From here on only the caller's signal (and the stall timeout between chunks) applies.
    waiting.removeEventListener('abort', onAbort)
    signal.addEventListener('abort', onAbort, { once: true })
    book.recordAnswer(peer, firstByteMs)

    const { reader } = fetchStream
    let pending: Uint8Array | undefined = first
    let answered = 0
    let bodyLeft = 0
    let encoding: BlobHeaderMessage['encoding'] = 'PLAIN'
    let broken = false
    let closed = false
    const pool = this.pool
    const breakOff = (error: unknown): never => { broken = true; return failed(error) }
    return {
      firstByteMs,
      async header () {
        if (answered >= wants.length || bodyLeft > 0) throw new RangeError(`header() called with ${answered} of ${wants.length} wants answered and ${bodyLeft} body bytes unread`)
        let bytes = pending
        pending = undefined
        if (bytes === undefined) {
          try {
            bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
            if (bytes === undefined) throw new PeerMisbehavedError(`peer ${peer} closed the fetch stream before answering every want`)
          } catch (error) {
            return breakOff(error)
          }
        }
        let header: BlobHeaderMessage
        try {
          header = messages.blobHeader.decode(bytes)
        } catch (error) {
          broken = true
          throw error
        }
        answered++
        if (header.status === 'OK' && header.encoding !== 'PLAIN' && !(compression && header.encoding === 'ZSTD_CHUNKS')) {
          return breakOff(new PeerMisbehavedError(`peer ${peer} sent a body encoded ${header.encoding}, which we did not accept`))
        }
        encoding = header.encoding
        if (header.status === 'OK') bodyLeft = header.length
        // The server ends the stream after INVALID.
        else if (header.status !== 'NOT_FOUND' && header.status !== 'BUSY') broken = true
        return header
      },
      async * body (length) {
        if (length !== bodyLeft) broken = true
        try {
          for await (const piece of encoding === 'ZSTD_CHUNKS' ? decodeChunks(reader, length, peer) : reader.readBytes(length)) {
            bodyLeft -= piece.byteLength
            yield piece
          }
        } catch (error) {
          breakOff(error)
        }
      },
      close () {
        if (closed) return
        closed = true
        signal.removeEventListener('abort', onAbort)
        const complete = !broken && answered === wants.length && bodyLeft === 0 && !signal.aborted && !book.isBanned(peer)
        pool.release(fetchStream, complete)
      },
      fail () { broken = true }
    }
  }

  /**
   * Fetches a whole blob from `peer` into `store`. Resolves 'ok' once it is stored (verified),
   * 'not-found' or 'busy' per the peer's answer; throws DigestMismatchError when the bytes do not
   * match (the caller bans), or a transport error.
   */
  async fetchInto (peer: string, digest: Digest, store: BlobSink, signal: AbortSignal, options: FetchOptions = {}): Promise<FetchOutcome> {
    const session = await this.open(peer, [{ digest }], signal, options)
    const started = performance.now()
    try {
      const header = await session.header()
      const outcome = this.outcomeOf(peer, header, 0, digest.sizeBytes)
      if (outcome !== 'ok') return outcome
      await storeBody(session, header.length, digest, store)
      this.init.book.recordFetch(peer, digest.sizeBytes, performance.now() - started + session.firstByteMs)
      return 'ok'
    } catch (error) {
      session.fail()
      throw error
    } finally {
      session.close()
    }
  }

  /** Fetches `length` bytes at `offset` of a blob into memory (for parallel pieces). */
  async fetchRange (peer: string, digest: Digest, offset: number, length: number, signal: AbortSignal, options: FetchOptions = {}): Promise<Buffer | 'not-found' | 'busy'> {
    const session = await this.open(peer, [{ digest, offset, length }], signal, options)
    const started = performance.now()
    try {
      const header = await session.header()
      const outcome = this.outcomeOf(peer, header, offset, length)
      if (outcome !== 'ok') return outcome
      const out = Buffer.allocUnsafe(length)
      let at = 0
      for await (const chunk of session.body(length)) {
        out.set(chunk, at)
        at += chunk.byteLength
      }
      this.init.book.recordFetch(peer, length, performance.now() - started + session.firstByteMs)
      return out
    } catch (error) {
      session.fail()
      throw error
    } finally {
      session.close()
    }
  }

  private outcomeOf (peer: string, header: BlobHeaderMessage, offset: number, length: number): FetchOutcome {
    if (header.status === 'NOT_FOUND') return 'not-found'
    if (header.status === 'BUSY') return 'busy'
    if (header.status !== 'OK') throw new PeerMisbehavedError(`peer ${peer} refused the fetch: ${header.status} ${header.message}`)
    if (header.offset !== offset || header.length !== length) {
      throw new PeerMisbehavedError(`peer ${peer} answered range ${header.offset}+${header.length} for ${offset}+${length}`)
    }
    return 'ok'
  }
}

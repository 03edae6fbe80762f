import type { Libp2p } from 'libp2p'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { LocalStore } from '../store/local-store.js'
import { FETCH_PROTOCOL, MAX_CONTROL_FRAME_BYTES, MAX_WANTS_PER_REQUEST } from './constants.js'
import { toBlobRef } from './cid.js'
import { PeerMisbehavedError, PeerStalledError } from './errors.js'
import { StreamReader, sendFrame } from './framing.js'
import { messages, type BlobHeaderMessage } from './messages.js'
import type { PeerBook } from './peer-book.js'

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
}

/** Options of {@link FetchClient.open} and the fetch methods. */
export interface FetchOptions {
  /**
   * Cut the peer off (a {@link PeerStalledError}) if its first header has not arrived this many
   * ms after the call, waiting for a stream slot included. At most, and by default, the stall timeout.
   */
  answerTimeoutMs?: number
}

/** One open fetch stream: read headers and bodies in request order. */
export interface FetchSession {
  /** The next want's header. */
  header(): Promise<BlobHeaderMessage>
  /** The raw bytes of the current want (exactly `length`). */
  body(length: number): AsyncGenerator<Uint8Array>
  /** Ms from opening the stream to the first header. */
  readonly firstByteMs: number
  /** Releases the stream (aborting it if the peer still has things to send). */
  close(): void
}

/**
 * The client side of /peercas/fetch/1.0.0. At most the per-peer stream cap of fetches run at
 * once against one peer; the rest wait. Every byte goes through the store's verifying writer.
 * Each peer's first answer is timed into its {@link PeerBook} latency; a stall, timeout or
 * transport error (not caused by the caller's signal) penalises the peer (`PeerBook.penalize`).
 */
export class FetchClient {
  constructor (private readonly init: FetchClientInit) {}

  /** Opens a stream to `peer` and sends the request for `wants`. */
  async open (peer: string, wants: RangeSpec[], signal: AbortSignal, options: FetchOptions = {}): Promise<FetchSession> {
    if (wants.length === 0 || wants.length > MAX_WANTS_PER_REQUEST) throw new RangeError(`a fetch asks for 1..${MAX_WANTS_PER_REQUEST} blobs, not ${wants.length}`)
    const { book, stallTimeoutMs } = this.init
    const answerMs = Math.min(options.answerTimeoutMs ?? stallTimeoutMs, stallTimeoutMs)
    const record = book.get(peer)
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
    try {
      await record.fetchStreams.acquire(waiting)
    } catch (error) {
      return failed(error)
    }
    let stream: Stream | undefined
    let onAbort: (() => void) | undefined
    const release = (): void => {
      clearTimeout(answerTimer)
      if (onAbort !== undefined) waiting.removeEventListener('abort', onAbort)
      record.fetchStreams.release()
    }
    try {
      stream = await this.init.libp2p.dialProtocol(peerIdFromString(peer), FETCH_PROTOCOL, { signal: waiting })
      const opened = stream
      onAbort = () => { opened.abort(waiting.reason instanceof Error ? waiting.reason : new Error('fetch aborted')) }
      waiting.addEventListener('abort', onAbort, { once: true })
      const reader = new StreamReader(stream, { stallTimeoutMs })
      await sendFrame(stream, messages.fetchRequest.encode({
        wants: wants.map((w) => ({ blob: toBlobRef(w.digest), offset: w.offset ?? 0, length: w.length ?? 0 }))
      }), { signal: waiting, stallTimeoutMs })
      await stream.close({ signal: waiting })
      let firstByteMs = 0
      let closed = false
      return {
        get firstByteMs () { return firstByteMs },
        async header () {
          let bytes: Uint8Array | undefined
          try {
            bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
            if (bytes === undefined) throw new PeerMisbehavedError(`peer ${peer} closed the fetch stream before answering every want`)
          } catch (error) {
            return failed(error)
          }
          if (firstByteMs === 0) {
            firstByteMs = performance.now() - started
            clearTimeout(answerTimer)
            // From here on only the caller's signal (and the stall timeout between chunks) applies.
            waiting.removeEventListener('abort', onAbort!)
            signal.addEventListener('abort', onAbort!, { once: true })
            book.recordAnswer(peer, firstByteMs)
          }
          return messages.blobHeader.decode(bytes)
        },
        async * body (length) {
          try {
            yield * reader.readBytes(length)
          } catch (error) {
            failed(error)
          }
        },
        close () {
          if (closed) return
          closed = true
          signal.removeEventListener('abort', onAbort!)
          if (opened.status === 'open' && (opened.readStatus !== 'closed' || reader.buffered > 0)) opened.abort(new Error('fetch finished early'))
          release()
        }
      }
    } catch (error) {
      stream?.abort(error as Error)
      release()
      return failed(error)
    }
  }

  /**
   * Fetches a whole blob from `peer` into `store`. Resolves 'ok' once it is stored (verified),
   * 'not-found' or 'busy' per the peer's answer; throws DigestMismatchError when the bytes do not
   * match (the caller bans), or a transport error.
   */
  async fetchInto (peer: string, digest: Digest, store: LocalStore, signal: AbortSignal, options: FetchOptions = {}): Promise<FetchOutcome> {
    const session = await this.open(peer, [{ digest }], signal, options)
    const started = performance.now()
    try {
      const header = await session.header()
      const outcome = this.outcomeOf(peer, header, 0, digest.sizeBytes)
      if (outcome !== 'ok') return outcome
      const writer = store.createWriter(digest)
      try {
        for await (const chunk of session.body(header.length)) {
          await writer.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
        }
        await writer.commit()
      } finally {
        await writer.abort()
      }
      this.init.book.recordFetch(peer, digest.sizeBytes, performance.now() - started + session.firstByteMs)
      return 'ok'
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

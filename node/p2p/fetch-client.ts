import type { Libp2p } from 'libp2p'
import type { Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { LocalStore } from '../store/local-store.js'
import { FETCH_PROTOCOL, MAX_CONTROL_FRAME_BYTES, MAX_WANTS_PER_REQUEST } from './constants.js'
import { toBlobRef } from './cid.js'
import { PeerMisbehavedError } from './errors.js'
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
 */
export class FetchClient {
  constructor (private readonly init: FetchClientInit) {}

  /** Opens a stream to `peer` and sends the request for `wants`. */
  async open (peer: string, wants: RangeSpec[], signal: AbortSignal): Promise<FetchSession> {
    if (wants.length === 0 || wants.length > MAX_WANTS_PER_REQUEST) throw new RangeError(`a fetch asks for 1..${MAX_WANTS_PER_REQUEST} blobs, not ${wants.length}`)
    const record = this.init.book.get(peer)
    await record.fetchStreams.acquire(signal)
    const started = performance.now()
    let stream: Stream | undefined
    let onAbort: (() => void) | undefined
    const release = (): void => {
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
      record.fetchStreams.release()
    }
    try {
      stream = await this.init.libp2p.dialProtocol(peerIdFromString(peer), FETCH_PROTOCOL, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.init.stallTimeoutMs)])
      })
      const opened = stream
      onAbort = () => { opened.abort(signal.reason instanceof Error ? signal.reason : new Error('fetch aborted')) }
      signal.addEventListener('abort', onAbort, { once: true })
      const reader = new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs })
      await sendFrame(stream, messages.fetchRequest.encode({
        wants: wants.map((w) => ({ blob: toBlobRef(w.digest), offset: w.offset ?? 0, length: w.length ?? 0 }))
      }), { signal, stallTimeoutMs: this.init.stallTimeoutMs })
      await stream.close({ signal })
      let firstByteMs = 0
      let closed = false
      return {
        get firstByteMs () { return firstByteMs },
        async header () {
          const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
          if (bytes === undefined) throw new PeerMisbehavedError(`peer ${peer} closed the fetch stream before answering every want`)
          if (firstByteMs === 0) firstByteMs = performance.now() - started
          return messages.blobHeader.decode(bytes)
        },
        body: (length) => reader.readBytes(length),
        close () {
          if (closed) return
          closed = true
          if (opened.status === 'open' && (opened.readStatus !== 'closed' || reader.buffered > 0)) opened.abort(new Error('fetch finished early'))
          release()
        }
      }
    } catch (error) {
      stream?.abort(error as Error)
      release()
      throw error
    }
  }

  /**
   * Fetches a whole blob from `peer` into `store`. Resolves 'ok' once it is stored (verified),
   * 'not-found' or 'busy' per the peer's answer; throws DigestMismatchError when the bytes do not
   * match (the caller bans), or a transport error.
   */
  async fetchInto (peer: string, digest: Digest, store: LocalStore, signal: AbortSignal): Promise<FetchOutcome> {
    const session = await this.open(peer, [{ digest }], signal)
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
      this.init.book.recordFetch(peer, digest.sizeBytes, session.firstByteMs, performance.now() - started + session.firstByteMs)
      return 'ok'
    } finally {
      session.close()
    }
  }

  /** Fetches `length` bytes at `offset` of a blob into memory (for parallel pieces). */
  async fetchRange (peer: string, digest: Digest, offset: number, length: number, signal: AbortSignal): Promise<Buffer | 'not-found' | 'busy'> {
    const session = await this.open(peer, [{ digest, offset, length }], signal)
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
      this.init.book.recordFetch(peer, length, session.firstByteMs, performance.now() - started + session.firstByteMs)
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

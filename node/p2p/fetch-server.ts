import type { Libp2p } from 'libp2p'
import type { Connection, Stream } from '@libp2p/interface'
import type { Readable } from 'node:stream'
import { createHash, type Hash } from 'node:crypto'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { BlobReader } from '../store/index.js'
import { Uint8ArrayList } from 'uint8arraylist'
import { FETCH_PROTOCOL, FETCH_STREAM_PROTOCOL, IDLE_STREAM_CLOSE_GRACE_MS, MAX_CONTROL_FRAME_BYTES, MAX_WANTS_PER_REQUEST, SEND_CHUNK_BYTES } from './constants.js'
import { fromBlobRef } from './cid.js'
import { MalformedFrameError } from './errors.js'
import { StreamReader, closeGracefully, frame, send, sendFrame } from './framing.js'
import { IdleStreamBounds } from './idle-stream-bounds.js'
import { COMPRESSION_SAMPLE_BYTES, MIN_COMPRESSED_BODY_BYTES, encodeChunks, worthCompressing } from './compression.js'
import { Semaphore, TokenBucket } from '../limits/index.js'
import { messages, type BlobHeaderMessage, type FetchRequestMessage } from './messages.js'
import type { PeerBook, PeerRecord } from './peer-book.js'

/** What {@link FetchServer} needs. */
export interface FetchServerInit {
  libp2p: Libp2p
  store: BlobReader
  book: PeerBook
  logger: Logger
  /** Fetch requests served at once, over all peers; also the most idle 1.1.0 streams kept. */
  maxStreams: number
  /**
   * Fetch requests served at once to one peer (enforced by the book's semaphores); also the most
   * idle 1.1.0 streams kept per peer.
   */
  maxStreamsPerPeer: number
  /** Bytes/s served over all peers; 0 = unlimited. */
  maxServeRate: number
  /**
   * The bucket that paces `maxServeRate`, when it is shared with other senders of blob bytes
   * (action-result answers with inline blobs). @default a bucket of its own
   */
  rate?: TokenBucket
  /** A peer that sends no request (1.1.0: no next request), or reads nothing, for this long is cut off. */
  stallTimeoutMs: number
  /**
   * Send bodies zstd-compressed to clients that accept it, when a sample of the body shows it
   * pays (see compression.ts). @default true
   */
  compression?: boolean
  /**
   * Ranges of blobs this node is still fetching from a swarm, served once every piece in them is
   * verified (see swarm.ts). @default none
   */
  partials?: { openPartialRange(digest: Digest, offset: number, length: number): Promise<Readable | undefined> }
}

/** How a request was answered. */
type Answered = 'answered' | 'invalid'

/**
 * Serves the fetch protocols. /peercas/fetch/1.0.0: one FetchRequest per stream, then per want a
 * BlobHeader and, for OK, the raw bytes. /peercas/fetch/1.1.0: the same exchange repeated on one
 * stream until the client closes it. Requests beyond the per-peer or total cap of requests being
 * served get BUSY (one header per want); bytes are paced by per-peer and total token buckets and
 * written only as fast as the peer reads. A 1.1.0 stream holds a serving slot only while a request
 * is answered; between requests it is idle, and idle streams are bounded per peer
 * (`maxStreamsPerPeer`) and in total (`maxStreams`, longest idle evicted) and closed after the
 * stall timeout.
 */
export class FetchServer {
  private readonly streams: Semaphore
  private readonly rate: TokenBucket
  private readonly idle: IdleStreamBounds
  private readonly log: Logger

  constructor (private readonly init: FetchServerInit) {
    this.streams = new Semaphore(init.maxStreams)
    this.rate = init.rate ?? new TokenBucket(init.maxServeRate)
    this.idle = new IdleStreamBounds(init.maxStreamsPerPeer, init.maxStreams)
    this.log = init.logger
  }

  /** Registers the protocol handlers (1.1.0 and, for older nodes, 1.0.0). */
  async start (): Promise<void> {
    // libp2p's own per-connection cap sits above ours so over-cap streams still get a BUSY answer.
    const perConnection = this.init.maxStreamsPerPeer * 2 + 4
    for (const protocol of [FETCH_STREAM_PROTOCOL, FETCH_PROTOCOL]) {
      const reusable = protocol === FETCH_STREAM_PROTOCOL
      await this.init.libp2p.handle(protocol, (stream, connection) => {
        void (reusable ? this.serveStream(stream, connection) : this.serveOnce(stream, connection)).catch((error) => {
          this.log.debug('fetch stream failed', { peer: connection.remotePeer.toString(), error })
          stream.abort(error as Error)
        })
      }, { maxInboundStreams: perConnection, maxOutboundStreams: perConnection })
    }
  }

  /** Idle /peercas/fetch/1.1.0 streams waiting for a request now (all peers); for tests. */
  get idleStreams (): number { return this.idle.size }

  /** /peercas/fetch/1.0.0: one request, its answer, close. */
  private async serveOnce (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const record = this.init.book.get(peer)
    if (!this.streams.tryAcquire()) {
      await this.reject(stream, 'BUSY', `node serves at most ${this.streams.limit} fetch streams`)
      return
    }
    try {
      if (!record.serveStreams.tryAcquire()) {
        await this.reject(stream, 'BUSY', `node serves at most ${record.serveStreams.limit} fetch streams per peer`)
        return
      }
      try {
        const reader = new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs })
        const request = await this.readRequest(reader)
        if (request === undefined) { await stream.close(); return }
        if (await this.answer(stream, peer, record, request) === 'invalid') return
        await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) })
      } finally {
        record.serveStreams.release()
      }
    } finally {
      this.streams.release()
    }
  }

  /**
   * /peercas/fetch/1.1.0: requests one after another until the client closes its side. Each
   * request takes a serving slot while it is answered, or is answered BUSY; between requests the
   * stream is idle (see {@link IdleStreamBounds}) for at most the stall timeout.
   */
  private async serveStream (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const record = this.init.book.get(peer)
    const reader = new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs })
    for (;;) {
      const next = await this.nextRequest(reader, peer)
      if (next === 'ended') { await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) }); return }
      if (next === 'idle') { await closeGracefully(stream, IDLE_STREAM_CLOSE_GRACE_MS); return }
      const request = await this.readRequest(reader)
      if (request === undefined) { await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) }); return }
      if (!this.streams.tryAcquire()) {
        await this.busy(stream, request, `node serves at most ${this.streams.limit} fetch requests at once`)
        continue
      }
      let answered: Answered
      try {
        if (!record.serveStreams.tryAcquire()) {
          await this.busy(stream, request, `node serves at most ${record.serveStreams.limit} fetch requests at once per peer`)
          continue
        }
        try {
          answered = await this.answer(stream, peer, record, request)
        } finally {
          record.serveStreams.release()
        }
      } finally {
        this.streams.release()
      }
      if (answered === 'invalid') return
    }
  }

  /**
   * Waits for the first byte of the next request on an idle stream: 'request', 'ended' (the
   * client closed its side), or 'idle' (nothing for the stall timeout, or evicted by the idle bounds).
   */
  private async nextRequest (reader: StreamReader, peer: string): Promise<'request' | 'ended' | 'idle'> {
    if (reader.buffered > 0) return 'request'
    const ticket = this.idle.enter(peer)
    const timeout = new AbortController()
    const timer = setTimeout(() => { timeout.abort(new Error(`no request for ${this.init.stallTimeoutMs} ms`)) }, this.init.stallTimeoutMs)
    try {
      return await reader.waitForData(AbortSignal.any([ticket.signal, timeout.signal])) ? 'request' : 'ended'
    } catch (error) {
      if (ticket.signal.aborted || timeout.signal.aborted) {
        this.log.debug('closing an idle fetch stream', { peer, reason: ((ticket.signal.aborted ? ticket.signal.reason : timeout.signal.reason) as Error).message })
        return 'idle'
      }
      throw error
    } finally {
      clearTimeout(timer)
      ticket.leave()
    }
  }

  /** Reads and checks one FetchRequest; `undefined` when the stream ended instead. */
  private async readRequest (reader: StreamReader): Promise<FetchRequestMessage | undefined> {
    const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
    if (bytes === undefined) return undefined
    const request = messages.fetchRequest.decode(bytes)
    if (request.wants.length > MAX_WANTS_PER_REQUEST) throw new MalformedFrameError(`${request.wants.length} wants exceed the cap of ${MAX_WANTS_PER_REQUEST}`)
    if (request.wants.length === 0) throw new MalformedFrameError('a fetch request with no wants')
    return request
  }

  /**
   * Answers every want of `request` in order. An invalid want (malformed CID, range past the end)
   * is answered INVALID and the stream is closed: 'invalid'.
   */
  private async answer (stream: Stream, peer: string, record: PeerRecord, request: FetchRequestMessage): Promise<Answered> {
    for (const want of request.wants) {
      let digest: Digest
      let offset: number
      let length: number
      try {
        digest = fromBlobRef(want.blob)
        offset = want.offset
        if (offset > digest.sizeBytes) throw new MalformedFrameError(`offset ${offset} is past the end of ${digest.hash}/${digest.sizeBytes}`)
        length = want.length === 0 ? digest.sizeBytes - offset : want.length
        if (offset + length > digest.sizeBytes) throw new MalformedFrameError(`range ${offset}+${length} is past the end of ${digest.hash}/${digest.sizeBytes}`)
      } catch (error) {
        await this.reject(stream, 'INVALID', (error as Error).message)
        this.log.warn('peer sent an invalid fetch request', { peer, error })
        return 'invalid'
      }
      const body = length === 0 ? undefined : await this.init.store.openReadStream(digest, { offset, limit: length }) ?? await this.init.partials?.openPartialRange(digest, offset, length)
      if (length > 0 && body === undefined) {
        await this.header(stream, { status: 'NOT_FOUND', offset, length: 0, message: '' })
        continue
      }
      let compressed: boolean
      try {
        compressed = body !== undefined && this.init.compression !== false && request.acceptEncodings.includes('ZSTD_CHUNKS') &&
          length >= MIN_COMPRESSED_BODY_BYTES && await this.compressible(digest, offset, length)
        await this.header(stream, { status: 'OK', offset, length, message: '', encoding: compressed ? 'ZSTD_CHUNKS' : 'PLAIN' })
      } catch (error) {
        // The body holds a file (and a pin) until destroyed.
        body?.destroy()
        throw error
      }
      if (body !== undefined) {
        if (compressed) await this.pumpCompressed(stream, record, body, digest, offset, length)
        else await this.pump(stream, record, body, digest, offset, length)
      }
    }
    return 'answered'
  }

  /** Answers every want of a request BUSY (1.1.0: the stream stays usable for the next request). */
  private async busy (stream: Stream, request: FetchRequestMessage, message: string): Promise<void> {
    const frames = request.wants.map(() => frame(messages.blobHeader.encode({ status: 'BUSY', offset: 0, length: 0, message })))
    await send(stream, new Uint8ArrayList(...frames), { stallTimeoutMs: this.init.stallTimeoutMs })
  }

  /**
   * Sends a blob's bytes. A whole blob is hashed as it goes and its last chunk held back until
   * the hash matches: bytes that rotted on our disk after their first-read check are never
   * sent complete (the peer sees a cut transfer and tries elsewhere, instead of banning us
   * for wrong bytes), and the file is checked again and quarantined.
   */
  private async pump (stream: Stream, record: PeerRecord, body: Readable, digest: Digest, offset: number, length: number): Promise<void> {
    let position = offset
    const hash: Hash | undefined = offset === 0 && length === digest.sizeBytes ? createHash('sha256') : undefined
    let held: Buffer | undefined
    const sendChunk = async (chunk: Buffer): Promise<void> => {
      await record.serveRate.take(chunk.byteLength)
      await this.rate.take(chunk.byteLength)
      await send(stream, chunk, { stallTimeoutMs: this.init.stallTimeoutMs })
      record.bytesServedTo += chunk.byteLength
    }
    try {
      for await (const data of body as AsyncIterable<Buffer>) {
        for (let i = 0; i < data.byteLength; i += SEND_CHUNK_BYTES) {
          const chunk = data.subarray(i, i + SEND_CHUNK_BYTES)
          position += chunk.byteLength
          if (hash === undefined) { await sendChunk(chunk); continue }
          hash.update(chunk)
          if (held !== undefined) await sendChunk(held)
          held = chunk
        }
      }
      if (position !== offset + length) throw new Error(`local blob ${digest.hash} ended after ${position - offset} of ${length} bytes`)
      if (hash !== undefined && hash.digest('hex') !== digest.hash) {
        const sound = await this.init.store.recheck(digest).catch(() => false)
        throw new Error(`local blob ${digest.hash} did not match its digest while being served${sound ? '' : '; quarantined'}`)
      }
      if (held !== undefined) await sendChunk(held)
    } finally {
      body.destroy()
    }
  }

  /** Whether the first bytes of the range compress well enough to send it compressed. */
  private async compressible (digest: Digest, offset: number, length: number): Promise<boolean> {
    const sample = await this.init.store.openReadStream(digest, { offset, limit: Math.min(length, COMPRESSION_SAMPLE_BYTES) })
    if (sample === undefined) return false
    const parts: Buffer[] = []
    try {
      for await (const data of sample as AsyncIterable<Buffer>) parts.push(data)
    } finally {
      sample.destroy()
    }
    return worthCompressing(Buffer.concat(parts))
  }

  /** As {@link pump}, the body in compressed chunk frames; the rate buckets count the bytes on the wire. */
  private async pumpCompressed (stream: Stream, record: PeerRecord, body: Readable, digest: Digest, offset: number, length: number): Promise<void> {
    let restored = 0
    const counted = async function * (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const data of source) { restored += data.byteLength; yield data }
    }
    try {
      for await (const payload of encodeChunks(counted(body as AsyncIterable<Buffer>))) {
        const framed = frame(payload)
        await record.serveRate.take(framed.byteLength)
        await this.rate.take(framed.byteLength)
        await send(stream, framed, { stallTimeoutMs: this.init.stallTimeoutMs })
        record.bytesServedTo += framed.byteLength
      }
      if (restored !== length) throw new Error(`local blob ${digest.hash} ended after ${restored} of ${length} bytes at ${offset}`)
    } finally {
      body.destroy()
    }
  }

  private async header (stream: Stream, header: Omit<BlobHeaderMessage, 'encoding'> & Partial<Pick<BlobHeaderMessage, 'encoding'>>): Promise<void> {
    await sendFrame(stream, messages.blobHeader.encode(header), { stallTimeoutMs: this.init.stallTimeoutMs })
  }

  private async reject (stream: Stream, status: 'BUSY' | 'INVALID', message: string): Promise<void> {
    await this.header(stream, { status, offset: 0, length: 0, message })
    await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) }).catch(() => { stream.abort(new Error(message)) })
  }
}

import type { Libp2p } from 'libp2p'
import type { Connection, Stream } from '@libp2p/interface'
import type { Readable } from 'node:stream'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { LocalStore } from '../store/local-store.js'
import { FETCH_PROTOCOL, MAX_CONTROL_FRAME_BYTES, MAX_WANTS_PER_REQUEST, SEND_CHUNK_BYTES } from './constants.js'
import { fromBlobRef } from './cid.js'
import { MalformedFrameError } from './errors.js'
import { StreamReader, send, sendFrame } from './framing.js'
import { Semaphore, TokenBucket } from '../limits/index.js'
import { messages, type BlobHeaderMessage, type FetchRequestMessage } from './messages.js'
import type { PeerBook, PeerRecord } from './peer-book.js'

/**
 * Rewrites bytes as they are served. For tests only: it makes a real node that lies about
 * content. `offset` is the position of `chunk` in the blob.
 */
export type ServeTransform = (digest: Digest, offset: number, chunk: Uint8Array) => Uint8Array

/** What {@link FetchServer} needs. */
export interface FetchServerInit {
  libp2p: Libp2p
  store: LocalStore
  book: PeerBook
  logger: Logger
  /** Fetch streams served at once, over all peers. */
  maxStreams: number
  /** Fetch streams served at once to one peer (enforced by the book's semaphores). */
  maxStreamsPerPeer: number
  /** Bytes/s served over all peers; 0 = unlimited. */
  maxServeRate: number
  /**
   * The bucket that paces `maxServeRate`, when it is shared with other senders of blob bytes
   * (action-result answers with inline blobs). @default a bucket of its own
   */
  rate?: TokenBucket
  /** A peer that sends no request, or reads nothing, for this long is cut off. */
  stallTimeoutMs: number
  /** Test hook, see {@link ServeTransform}. */
  transform?: ServeTransform
  /** Test hook: read each request and never answer (a hung peer). */
  stall?: boolean
}

/**
 * Serves /peercas/fetch/1.0.0: one FetchRequest, then per want a BlobHeader and, for OK, the
 * raw bytes. Streams over the per-peer or total cap get BUSY; bytes are paced by per-peer and
 * total token buckets and written only as fast as the peer reads.
 */
export class FetchServer {
  private readonly streams: Semaphore
  private readonly rate: TokenBucket
  private readonly log: Logger

  constructor (private readonly init: FetchServerInit) {
    this.streams = new Semaphore(init.maxStreams)
    this.rate = init.rate ?? new TokenBucket(init.maxServeRate)
    this.log = init.logger
  }

  /** Registers the protocol handler. */
  async start (): Promise<void> {
    // libp2p's own per-connection cap sits above ours so over-cap streams still get a BUSY answer.
    const perConnection = this.init.maxStreamsPerPeer * 2 + 4
    await this.init.libp2p.handle(FETCH_PROTOCOL, (stream, connection) => {
      void this.serve(stream, connection).catch((error) => {
        this.log.debug('fetch stream failed', { peer: connection.remotePeer.toString(), error })
        stream.abort(error as Error)
      })
    }, { maxInboundStreams: perConnection, maxOutboundStreams: perConnection })
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const record = this.init.book.get(peer)
    const stall = { stallTimeoutMs: this.init.stallTimeoutMs }
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
        const reader = new StreamReader(stream, stall)
        const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
        if (bytes === undefined) { await stream.close(); return }
        const request: FetchRequestMessage = messages.fetchRequest.decode(bytes)
        if (request.wants.length > MAX_WANTS_PER_REQUEST) throw new MalformedFrameError(`${request.wants.length} wants exceed the cap of ${MAX_WANTS_PER_REQUEST}`)
        if (this.init.stall === true) {
          await new Promise((resolve) => { stream.addEventListener('close', resolve, { once: true }) })
          return
        }
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
            return
          }
          const body = length === 0 ? undefined : await this.init.store.openReadStream(digest, { offset, limit: length })
          if (length > 0 && body === undefined) {
            await this.header(stream, { status: 'NOT_FOUND', offset, length: 0, message: '' })
            continue
          }
          await this.header(stream, { status: 'OK', offset, length, message: '' })
          if (body !== undefined) await this.pump(stream, record, body, digest, offset, length)
        }
        await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) })
      } finally {
        record.serveStreams.release()
      }
    } finally {
      this.streams.release()
    }
  }

  private async pump (stream: Stream, record: PeerRecord, body: Readable, digest: Digest, offset: number, length: number): Promise<void> {
    let position = offset
    const signal = AbortSignal.timeout(2 ** 31 - 1)
    try {
      for await (const data of body as AsyncIterable<Buffer>) {
        for (let i = 0; i < data.byteLength; i += SEND_CHUNK_BYTES) {
          let chunk: Uint8Array = data.subarray(i, i + SEND_CHUNK_BYTES)
          await record.serveRate.take(chunk.byteLength, signal)
          await this.rate.take(chunk.byteLength, signal)
          if (this.init.transform !== undefined) chunk = this.init.transform(digest, position, chunk)
          await send(stream, chunk, { stallTimeoutMs: this.init.stallTimeoutMs })
          position += chunk.byteLength
          record.bytesServedTo += chunk.byteLength
        }
      }
      if (position !== offset + length) throw new Error(`local blob ${digest.hash} ended after ${position - offset} of ${length} bytes`)
    } finally {
      body.destroy()
    }
  }

  private async header (stream: Stream, header: BlobHeaderMessage): Promise<void> {
    await sendFrame(stream, messages.blobHeader.encode(header), { stallTimeoutMs: this.init.stallTimeoutMs })
  }

  private async reject (stream: Stream, status: 'BUSY' | 'INVALID', message: string): Promise<void> {
    await this.header(stream, { status, offset: 0, length: 0, message })
    await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) }).catch(() => { stream.abort(new Error(message)) })
  }
}

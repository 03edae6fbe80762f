import type { Readable } from 'node:stream'
import type { ByteStreamHandlers } from '../generated/google/bytestream/ByteStream.js'
import type { WriteRequest__Output } from '../generated/google/bytestream/WriteRequest.js'
import type { Digest } from '../store/digest.js'
import type { BlobWriter } from '../store/blob-writer.js'
import type { BlobCatalog, BlobReader, BlobSink } from '../store/index.js'
import type { TieredResolver } from '../resolve/tiered-resolver.js'
import type { Logger } from '../log/logger.js'
import { silentLogger } from '../log/logger.js'
import { IDLE_UPLOAD_QUOTA_FRACTION, MAX_ACTIVE_UPLOADS, MAX_IDLE_UPLOADS, READ_CHUNK_BYTES, UPLOAD_RESUME_TTL_MS } from './constants.js'
import { toRpcError } from './errors.js'
import { InvalidRequestError, NotFoundError, ReadOutOfRangeError, TooManyUploadsError, WriteOffsetError } from '../domain/errors.js'
import { parseReadResourceName, parseWriteResourceName } from '../domain/resource-names.js'
import { answerUnary, watchCancellation, writeWithBackpressure } from './call-writes.js'
import { encodeReadResponseInPlace, READ_RESPONSE_HEADROOM } from './read-response.js'
import { BlobFileDamagedError, DigestMismatchError } from '../store/errors.js'
import { CompressedUpload, sendCompressedRange } from './compressed-blobs.js'

/** What the ByteStream service needs. */
export interface ByteStreamServiceDeps {
  store: BlobReader & BlobSink & Pick<BlobCatalog, 'stats'>
  resolver: TieredResolver
  onBlobsWritten?: (digests: Digest[]) => Promise<void> | void
  logger?: Logger
  /** @default 300000 */
  resumeTtlMs?: number
  /**
   * Bytes of stopped uploads kept for a resume; the ones idle longest are dropped past it.
   * @default a quarter of the store's quota ({@link IDLE_UPLOAD_QUOTA_FRACTION})
   */
  maxIdleUploadBytes?: number
}

/** An upload that stopped before finish_write, kept so the client can resume it. */
interface PendingUpload {
  writer: BlobWriter
  busy: boolean
  expiry?: NodeJS.Timeout
}

/** The ByteStream service plus a hook to drop partial uploads at shutdown. */
export interface ByteStreamService {
  handlers: ByteStreamHandlers
  /** Aborts every partial upload. */
  abortAll(): Promise<void>
}

/**
 * ByteStream over the CAS: Read of `{instance}/blobs/{hash}/{size}` with offset and limit;
 * resumable Write of `{instance}/uploads/{uuid}/blobs/{hash}/{size}`; QueryWriteStatus; and the
 * same with `compressed-blobs/zstd/` for `blobs/` (compressed-blobs.ts; such writes are not resumable).
 */
export function createByteStreamService (deps: ByteStreamServiceDeps): ByteStreamService {
  const { store, resolver } = deps
  const log = deps.logger ?? silentLogger
  const ttl = deps.resumeTtlMs ?? UPLOAD_RESUME_TTL_MS
  const maxIdleBytes = deps.maxIdleUploadBytes ?? Math.floor(store.stats().quotaBytes * IDLE_UPLOAD_QUOTA_FRACTION)
  if (!(maxIdleBytes >= 0)) throw new RangeError(`maxIdleUploadBytes must be non-negative, got ${maxIdleBytes}`)
  const uploads = new Map<string, PendingUpload>()
  /** The stopped uploads, in the order they stopped (oldest first). */
  const idle = new Map<string, PendingUpload>()

  const forget = (key: string, upload: PendingUpload): void => {
    if (upload.expiry != null) clearTimeout(upload.expiry)
    if (uploads.get(key) === upload) uploads.delete(key)
    if (idle.get(key) === upload) idle.delete(key)
  }

  const drop = (key: string, upload: PendingUpload, why: string): void => {
    forget(key, upload)
    log.debug('dropped a stopped upload', { resource: key, receivedBytes: upload.writer.receivedBytes, why })
    void upload.writer.abort().catch((error) => { log.warn('cannot discard a stopped upload', { resource: key, error }) })
  }

  /**
   * Abandoned uploads must not lock out new ones nor fill the disk: past either bound the one
   * stopped longest ago is dropped (its client can still start over), never a new upload refused.
   */
  const trimIdle = (): void => {
    let idleBytes = 0
    for (const upload of idle.values()) idleBytes += upload.writer.receivedBytes
    for (const [key, upload] of idle) {
      if (idle.size <= MAX_IDLE_UPLOADS && (idleBytes <= maxIdleBytes || idle.size === 1)) break
      idleBytes -= upload.writer.receivedBytes
      drop(key, upload, idle.size > MAX_IDLE_UPLOADS ? `more than ${MAX_IDLE_UPLOADS} stopped uploads` : `stopped uploads hold more than ${maxIdleBytes} bytes`)
    }
  }

  const keepForResume = (key: string, upload: PendingUpload): void => {
    upload.busy = false
    if (upload.expiry != null) clearTimeout(upload.expiry)
    upload.expiry = setTimeout(() => { drop(key, upload, 'not resumed in time') }, ttl)
    upload.expiry.unref()
    idle.delete(key)
    idle.set(key, upload)
    trimIdle()
  }

  const handlers: ByteStreamHandlers = {
    Read (call) {
      const cancellation = watchCancellation(call)
      void (async () => {
        const { digest, compressor } = parseReadResourceName(call.request.resourceName)
        const offset = Number(call.request.readOffset)
        const limit = Number(call.request.readLimit)
        if (offset < 0) throw new ReadOutOfRangeError(`read_offset ${offset} is negative`)
        if (limit < 0) throw new InvalidRequestError(`read_limit ${limit} is negative`)
        if (offset > digest.sizeBytes) throw new ReadOutOfRangeError(`read_offset ${offset} is past the end of blob ${digest.hash}/${digest.sizeBytes}`)
        const end = limit > 0 ? Math.min(digest.sizeBytes, offset + limit) : digest.sizeBytes
        const blob = await resolver.openBlob(digest, cancellation.signal)
        if (blob === undefined) throw new NotFoundError(`blob ${digest.hash}/${digest.sizeBytes} is not in the cache`)
        let sent = false
        if (compressor !== undefined) {
          try {
            await sendCompressedRange(call, blob, offset, end)
          } finally {
            if (blob.kind === 'file') await blob.close()
          }
          call.end()
          return
        }
        if (blob.kind === 'inline') {
          const data = blob.data
          for (let at = offset; at < end; at += READ_CHUNK_BYTES) {
            sent = true
            await writeWithBackpressure(call, { data: data.subarray(at, Math.min(end, at + READ_CHUNK_BYTES)) })
          }
        } else {
          const file = blob
          try {
            for (let at = offset; at < end && !call.cancelled;) {
              const want = Math.min(READ_CHUNK_BYTES, end - at)
              const buffer = Buffer.allocUnsafe(READ_RESPONSE_HEADROOM + want)
              const { bytesRead } = await file.handle.read(buffer, READ_RESPONSE_HEADROOM, want, at)
              if (bytesRead === 0) {
                // Truncated on disk since its first-read check: quarantine it (the next read refetches).
                await store.recheck(digest).catch(() => false)
                throw new BlobFileDamagedError(`blob ${digest.hash}/${digest.sizeBytes}: the stored file ended at byte ${at}; it is quarantined, read again to fetch it from another tier`)
              }
              sent = true
              // Pre-encoded: the service's serializer passes Buffers through (see grpc-server.ts).
              await writeWithBackpressure(call, encodeReadResponseInPlace(buffer, READ_RESPONSE_HEADROOM, bytesRead) as never)
              at += bytesRead
            }
          } finally {
            await file.close()
          }
        }
        // An empty read still answers with one (empty) message, which some clients expect.
        if (!sent) call.write({ data: Buffer.alloc(0) })
        call.end()
      })().catch((error) => { call.emit('error', toRpcError(error)) }).finally(() => { cancellation.release() })
    },

    Write (call, callback) {
      let key: string | undefined
      let upload: PendingUpload | undefined
      let digest: Digest | undefined
      let compressed: CompressedUpload | undefined
      let finished = false
      let cancelled = false
      const done = (error: unknown, committedSize?: number): void => {
        if (finished) return
        finished = true
        if (error != null) callback(toRpcError(error)); else callback(null, { committedSize })
      }
      call.on('cancelled', () => {
        cancelled = true
        void compressed?.abort()
        if (upload != null && key != null && !finished) keepForResume(key, upload)
      })

      void (async () => {
        // Leaving the loop (finish_write, or an error) must not destroy the call's stream: grpc-js
        // ends the call when it is answered, and the destroy built an AbortError with a stack
        // on every upload (~35 µs per 4 KiB Write, bench case `rpc`).
        const messages = (call as unknown as Readable).iterator({ destroyOnReturn: false }) as AsyncIterable<WriteRequest__Output>
        for await (const message of messages) {
          if (key === undefined) {
            if (message.resourceName === '') throw new InvalidRequestError('the first WriteRequest has no resource_name')
            const resource = parseWriteResourceName(message.resourceName)
            digest = resource.digest
            key = message.resourceName
            if (await store.has(digest)) {
              // Already stored (by anyone, maybe fetched from a peer): complete at once with the
              // full size (-1 for a compressed upload, as the REAPI asks). Still tell the
              // write-behind queue: a client wrote it (it dedupes).
              await deps.onBlobsWritten?.([digest])
              done(null, resource.compressor !== undefined ? -1 : digest.sizeBytes)
              return
            }
            if (resource.compressor !== undefined) {
              // Compressed uploads are not resumable: no entry in `uploads`, a writer of their own.
              compressed = new CompressedUpload(store.createWriter(digest), digest)
            } else {
              // `upload` is set only once this stream owns the upload: a refused stream's error
              // and cancel paths must not touch another stream's upload.
              const existing = uploads.get(key)
              if (existing?.busy === true) throw new InvalidRequestError(`upload ${key} is already in progress on another stream`)
              if (existing === undefined) {
                const active = uploads.size - idle.size
                if (active >= MAX_ACTIVE_UPLOADS) {
                  throw new TooManyUploadsError(`${active} uploads are being streamed at once; retry when some have finished`)
                }
                upload = { writer: store.createWriter(digest), busy: true }
                uploads.set(key, upload)
              } else {
                if (existing.expiry != null) clearTimeout(existing.expiry)
                existing.busy = true
                idle.delete(key)
                upload = existing
              }
            }
          } else if (message.resourceName !== '' && message.resourceName !== key) {
            throw new InvalidRequestError(`resource_name changed mid-stream from ${JSON.stringify(key)} to ${JSON.stringify(message.resourceName)}`)
          }
          if (compressed !== undefined) {
            if (await compressed.take(message)) {
              await deps.onBlobsWritten?.([digest!])
              done(null, compressed.receivedBytes)
              return
            }
            continue
          }
          const writer = upload!.writer
          const offset = Number(message.writeOffset)
          if (offset !== writer.receivedBytes) {
            throw new WriteOffsetError(`write_offset ${offset} does not continue upload ${key}, which has ${writer.receivedBytes} bytes committed`)
          }
          await writer.write(message.data)
          if (message.finishWrite) {
            if (writer.receivedBytes !== digest!.sizeBytes) {
              throw new DigestMismatchError(digest!, '', writer.receivedBytes)
            }
            await writer.commit()
            forget(key, upload!)
            await deps.onBlobsWritten?.([digest!])
            done(null, digest!.sizeBytes)
            return
          }
        }
        // Cancelled: the upload was kept for a resume when the cancel arrived (and may already
        // be resumed by another stream, so it is not ours to mark idle again).
        if (cancelled) return
        if (compressed !== undefined) {
          await compressed.abort()
          done(new InvalidRequestError(`compressed upload ${key} ended without finish_write; compressed uploads cannot be resumed`))
          return
        }
        // The client half-closed without finish_write: keep the bytes for a resume.
        if (upload != null && key != null) {
          keepForResume(key, upload)
          done(new InvalidRequestError(`upload ${key} ended after ${upload.writer.receivedBytes} of ${digest?.sizeBytes ?? '?'} bytes without finish_write; resume it at that offset`))
        } else {
          done(new InvalidRequestError('the Write stream carried no WriteRequest'))
        }
      })().catch(async (error) => {
        // A cancelled stream's upload was kept for a resume (and may already be resumed by
        // another stream): leave it alone.
        if (cancelled) return
        await compressed?.abort()
        // A broken or lying upload leaves nothing behind and cannot be resumed.
        if (upload != null && key != null) {
          forget(key, upload)
          await upload.writer.abort()
        }
        log.debug('ByteStream.Write failed', { resource: key, error })
        done(error)
      })
    },

    QueryWriteStatus (call, callback) {
      answerUnary(call, callback, async (signal) => {
        const resource = parseWriteResourceName(call.request.resourceName)
        if (await store.has(resource.digest)) return { committedSize: resource.digest.sizeBytes, complete: true }
        const upload = uploads.get(call.request.resourceName)
        if (upload === undefined) throw new NotFoundError(`no upload named ${JSON.stringify(call.request.resourceName)} is in progress`)
        return { committedSize: upload.writer.receivedBytes, complete: false }
      })
    }
  }

  return {
    handlers,
    async abortAll () {
      const all = [...uploads.entries()]
      uploads.clear()
      idle.clear()
      await Promise.all(all.map(async ([, upload]) => {
        if (upload.expiry != null) clearTimeout(upload.expiry)
        await upload.writer.abort()
      }))
    }
  }
}


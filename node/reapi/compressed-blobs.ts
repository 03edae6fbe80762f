import { once } from 'node:events'
import { Readable } from 'node:stream'
import { constants as zlibConstants, createZstdCompress, createZstdDecompress, type ZstdDecompress } from 'node:zlib'
import type { Digest } from '../store/digest.js'
import type { BlobWriter } from '../store/blob-writer.js'
import type { BlobFile, InlineBlob } from '../store/index.js'
import { DigestMismatchError } from '../store/errors.js'
import { InvalidRequestError, WriteOffsetError } from '../domain/errors.js'
import { writeWithBackpressure, type StreamingCall } from './call-writes.js'
import { READ_CHUNK_BYTES } from './constants.js'

// REAPI compressed-blobs/zstd on ByteStream: reads send a range of the blob as one zstd stream;
// writes restore the zstd stream into the store's verifying writer (SHA-256 and size of the
// uncompressed blob). Offsets and limits of a read are in uncompressed bytes; the write offsets
// after the first count compressed bytes, as the REAPI specifies.

/** zstd level for reads: fast (clients talk to their node over a socket or the LAN). */
const READ_ZSTD_LEVEL = 1
/** Largest compressed message a read sends (well under gRPC's 4 MiB message cap). */
const COMPRESSED_READ_MESSAGE_BYTES = 256 * 1024

/**
 * Sends bytes [offset, end) of `blob` as one zstd stream in ReadResponses, honouring the
 * call's backpressure. The caller closes the blob.
 */
export async function sendCompressedRange (call: StreamingCall<{ data: Buffer }> & { cancelled: boolean }, blob: BlobFile | InlineBlob, offset: number, end: number): Promise<void> {
  const source = Readable.from(rangeChunks(blob, offset, end), { objectMode: false })
  const zstd = createZstdCompress({ chunkSize: COMPRESSED_READ_MESSAGE_BYTES, params: { [zlibConstants.ZSTD_c_compressionLevel]: READ_ZSTD_LEVEL } })
  source.pipe(zstd)
  source.once('error', (error) => { zstd.destroy(error) })
  try {
    for await (const data of zstd as AsyncIterable<Buffer>) {
      if (call.cancelled) break
      await writeWithBackpressure(call, { data })
    }
  } finally {
    source.destroy()
    zstd.destroy()
  }
}

async function * rangeChunks (blob: BlobFile | InlineBlob, offset: number, end: number): AsyncGenerator<Buffer> {
  if (blob.kind === 'inline') {
    yield blob.data.subarray(offset, end)
    return
  }
  for (let at = offset; at < end;) {
    const want = Math.min(READ_CHUNK_BYTES, end - at)
    const buffer = Buffer.allocUnsafe(want)
    const { bytesRead } = await blob.handle.read(buffer, 0, want, at)
    if (bytesRead === 0) throw new Error(`blob file ended at ${at} of ${end} bytes`)
    yield buffer.subarray(0, bytesRead)
    at += bytesRead
  }
}

/** One ByteStream.Write of `compressed-blobs/zstd/…`, fed message by message. Not resumable. */
export class CompressedUpload {
  private readonly inflater: ZstdDecompress = createZstdDecompress()
  private compressedBytes = 0
  private restored = 0
  private readonly draining: Promise<void>

  constructor (private readonly writer: BlobWriter, private readonly digest: Digest) {
    this.draining = (async () => {
      for await (const data of this.inflater as AsyncIterable<Buffer>) {
        this.restored += data.byteLength
        // More than the digest's size: refuse at once, before it reaches the disk.
        if (this.restored > digest.sizeBytes) throw new DigestMismatchError(digest, '', this.restored)
        await writer.write(data)
      }
    })().catch((error: unknown) => {
      this.inflater.destroy(error as Error)
      if (error instanceof DigestMismatchError || (error as { code?: unknown }).code === undefined) throw error
      // zlib's own failure (a stream that is not zstd, or is cut): the client's bytes are bad.
      throw new InvalidRequestError(`the compressed upload of ${digest.hash}/${digest.sizeBytes} is not a valid zstd stream: ${(error as Error).message}`, { cause: error })
    })
    this.draining.catch(() => {})
  }

  /** Compressed bytes received so far (what a completed write reports as committed_size). */
  get receivedBytes (): number { return this.compressedBytes }

  /**
   * Takes one WriteRequest's bytes. Resolves true once `finishWrite` has committed the blob
   * (restored, verified); throws when the offset is wrong, the stream does not restore, or the
   * restored bytes do not match the digest.
   */
  async take (message: { writeOffset: number | string, data: Buffer, finishWrite: boolean }): Promise<boolean> {
    const offset = Number(message.writeOffset)
    if (offset !== this.compressedBytes) {
      throw new WriteOffsetError(`write_offset ${offset} does not continue the compressed upload of ${this.digest.hash}, which has ${this.compressedBytes} compressed bytes (compressed uploads start at 0 and cannot be resumed)`)
    }
    this.compressedBytes += message.data.byteLength
    if (message.data.byteLength > 0 && !this.inflater.write(message.data)) {
      const drained = once(this.inflater, 'drain')
      drained.catch(() => {})
      await Promise.race([drained, this.draining])
    }
    if (!message.finishWrite) return false
    this.inflater.end()
    await this.draining
    if (this.restored !== this.digest.sizeBytes) throw new DigestMismatchError(this.digest, '', this.restored)
    await this.writer.commit()
    return true
  }

  /** Drops the upload and its bytes. */
  async abort (): Promise<void> {
    this.inflater.destroy()
    await this.draining.catch(() => {})
    await this.writer.abort()
  }
}

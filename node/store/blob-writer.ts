import { createHash, randomUUID, type Hash } from 'node:crypto'
import { createWriteStream, type WriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import type { Digest } from './digest.js'
import { BlobTooLongError, DigestMismatchError, WriteAbortedError } from './errors.js'

/** Where a verified blob's bytes are, handed from a writer to the store at commit. */
export type VerifiedBytes =
  | { readonly kind: 'inline', readonly data: Buffer }
  | { readonly kind: 'file', readonly tempPath: string }

/** What a {@link BlobWriter} needs from its store. */
export interface BlobWriterHost {
  readonly tempDir: string
  readonly inlineThresholdBytes: number
  readonly fsync: boolean
  commitVerified(digest: Digest, bytes: VerifiedBytes): Promise<void>
  writerFinished(writer: BlobWriter): void
}

const WRITE_HIGH_WATER_BYTES = 8 * 1024 * 1024

/**
 * Streams one blob into the store: bytes are hashed as they arrive and go to memory (small
 * blobs) or to a private temp file (large ones). Only {@link BlobWriter.commit} makes the blob
 * visible, and only when the SHA-256 and length match the digest; anything else leaves nothing
 * behind.
 */
export class BlobWriter {
  private readonly hasher: Hash = createHash('sha256')
  private received = 0
  private readonly chunks: Buffer[] = []
  private file?: { path: string, stream: WriteStream, error?: Error }
  private state: 'open' | 'committing' | 'done' | 'aborted' = 'open'

  constructor (readonly digest: Digest, private readonly host: BlobWriterHost) {}

  /** Bytes accepted so far. */
  get receivedBytes (): number { return this.received }

  /** True once the writer has committed or aborted. */
  get finished (): boolean { return this.state === 'done' || this.state === 'aborted' }

  /**
   * Appends a chunk. Resolves when the writer can take more (disk backpressure).
   * Throws {@link BlobTooLongError} if the blob grows past its digest's size.
   */
  async write (chunk: Buffer): Promise<void> {
    if (this.state !== 'open') throw new WriteAbortedError(`write to ${this.digest.hash} after it ${this.state === 'aborted' ? 'was aborted' : 'finished'}`)
    if (chunk.byteLength === 0) return
    if (this.received + chunk.byteLength > this.digest.sizeBytes) {
      const total = this.received + chunk.byteLength
      await this.abort()
      throw new BlobTooLongError(this.digest, '', total)
    }
    this.hasher.update(chunk)
    this.received += chunk.byteLength
    if (this.digest.sizeBytes <= this.host.inlineThresholdBytes) {
      this.chunks.push(chunk)
      return
    }
    const file = this.openFile()
    if (file.error != null) throw file.error
    if (!file.stream.write(chunk)) await once(file.stream, 'drain')
  }

  /** Verifies the bytes and makes the blob visible in the store, or throws and stores nothing. */
  async commit (): Promise<void> {
    if (this.state !== 'open') throw new WriteAbortedError(`commit of ${this.digest.hash} after it ${this.state === 'aborted' ? 'was aborted' : 'finished'}`)
    this.state = 'committing'
    try {
      const actualHash = this.hasher.digest('hex')
      if (this.received !== this.digest.sizeBytes || actualHash !== this.digest.hash) {
        throw new DigestMismatchError(this.digest, actualHash, this.received)
      }
      if (this.file == null) {
        await this.host.commitVerified(this.digest, { kind: 'inline', data: Buffer.concat(this.chunks, this.received) })
      } else {
        const { stream } = this.file
        stream.end()
        await once(stream, 'close')
        if (this.file.error != null) throw this.file.error
        await this.host.commitVerified(this.digest, { kind: 'file', tempPath: this.file.path })
      }
      this.state = 'done'
    } catch (error) {
      this.state = 'open'
      await this.abort()
      throw error
    } finally {
      this.host.writerFinished(this)
    }
  }

  /** Discards everything received. Safe to call more than once. */
  async abort (): Promise<void> {
    if (this.state === 'aborted' || this.state === 'done') return
    this.state = 'aborted'
    this.chunks.length = 0
    const file = this.file
    if (file != null) {
      if (!file.stream.closed) {
        file.stream.destroy()
        await once(file.stream, 'close').catch(() => {})
      }
      await rm(file.path, { force: true })
    }
    this.host.writerFinished(this)
  }

  private openFile (): { path: string, stream: WriteStream, error?: Error } {
    if (this.file != null) return this.file
    const path = join(this.host.tempDir, `${this.digest.hash}.${randomUUID()}`)
    const stream = createWriteStream(path, { flags: 'wx', mode: 0o644, highWaterMark: WRITE_HIGH_WATER_BYTES, flush: this.host.fsync })
    const file: { path: string, stream: WriteStream, error?: Error } = { path, stream }
    stream.on('error', (error) => { file.error = error })
    this.file = file
    return file
  }
}

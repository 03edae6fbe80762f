import { createHash, randomUUID, type Hash } from 'node:crypto'
import { open, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
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

/**
 * Positional file writes a writer keeps in flight (each one chunk) before it waits. Enough to
 * overlap disk work with the network; few enough that received chunks are released soon.
 * Large received buffers are external memory, and --trace-gc shows ingest spending ~40% of its
 * time in full GCs "requested" by external-memory pressure (see docs/benchmarks.md).
 */
const MAX_WRITES_IN_FLIGHT = 4

/** A blob's private temp file while it is being written. */
interface TempFile {
  readonly path: string
  readonly handle: Promise<FileHandle>
  /** Next write position. */
  position: number
  inflight: Array<Promise<void>>
  error?: Error
  closed: boolean
}

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
  private file?: TempFile
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
    const position = file.position
    file.position += chunk.byteLength
    const write = file.handle.then(async (handle) => { await writeFully(handle, chunk, position) })
    file.inflight.push(write.catch((error: Error) => { file.error ??= error }))
    if (file.inflight.length >= MAX_WRITES_IN_FLIGHT) {
      await file.inflight.shift()
      if (file.error != null) throw file.error
    }
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
        await this.closeFile(this.file)
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
      await this.closeFile(file).catch(() => {})
      await rm(file.path, { force: true })
    }
    this.host.writerFinished(this)
  }

  private openFile (): TempFile {
    if (this.file != null) return this.file
    const path = join(this.host.tempDir, `${this.digest.hash}.${randomUUID()}`)
    const file: TempFile = { path, handle: open(path, 'wx', 0o644), position: 0, inflight: [], closed: false }
    file.handle.catch((error: Error) => { file.error ??= error })
    this.file = file
    return file
  }

  /** Waits for the writes in flight, then (with fsync) flushes and closes the file. */
  private async closeFile (file: TempFile): Promise<void> {
    if (file.closed) return
    file.closed = true
    await Promise.all(file.inflight)
    file.inflight = []
    let handle: FileHandle
    try { handle = await file.handle } catch { return }
    try {
      if (this.host.fsync && file.error == null) await handle.sync()
    } catch (error) {
      file.error ??= error as Error
    } finally {
      await handle.close()
    }
  }
}

/** `handle.write` until every byte of `chunk` is at `position` (a write may be short). */
async function writeFully (handle: FileHandle, chunk: Buffer, position: number): Promise<void> {
  let done = 0
  while (done < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.byteLength - done, position + done)
    done += bytesWritten
  }
}

import { createHash, randomUUID, type Hash } from 'node:crypto'
import { open, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { Digest } from './digest.js'
import { BufferPool } from './buffer-pool.js'
import { FILE_CHUNK_BYTES } from './constants.js'
import { BlobTooLongError, DigestMismatchError, WriteAbortedError, diskFullOr } from './errors.js'

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
  /** `bytes` more went to the writer's temp file (they count against the quota until it finishes). */
  tempBytesAdded(writer: BlobWriter, bytes: number): void
}

/**
 * Positional file writes a writer keeps in flight (each one chunk) before it waits. Enough to
 * overlap disk work with the network; few enough that received chunks are released soon.
 * Large received buffers are external memory, and --trace-gc shows ingest spending ~40% of its
 * time in full GCs "requested" by external-memory pressure (see docs/benchmarks.md).
 */
const MAX_WRITES_IN_FLIGHT = 4

/**
 * Gathering buffers of every writer in this process. A blob of at least FILE_CHUNK_BYTES that
 * arrives in smaller pieces is copied into one of these and written a FILE_CHUNK_BYTES at a time;
 * the buffers are reused, so a long ingest allocates no new memory per chunk.
 */
const gatheringBuffers = new BufferPool(FILE_CHUNK_BYTES, 2 * MAX_WRITES_IN_FLIGHT + 8)

/** A blob's private temp file while it is being written. */
interface TempFile {
  readonly path: string
  readonly handle: Promise<FileHandle>
  /** Next write position. */
  position: number
  inflight: Array<Promise<void>>
  error?: Error
  /** Set by the first close; every later caller waits for the same one. */
  closing?: Promise<void>
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
  /** Bytes received but not yet submitted to the file (see {@link gatheringBuffers}). */
  private gathering?: { buffer: Buffer, bytes: number, pooled: boolean }
  private state: 'open' | 'committing' | 'done' | 'aborted' = 'open'
  /** The writes accepted so far, applied one after another (see {@link write}). */
  private pending: Promise<void> = Promise.resolve()
  private committing?: Promise<void>

  constructor (readonly digest: Digest, private readonly host: BlobWriterHost) {}

  /** Bytes accepted so far. */
  get receivedBytes (): number { return this.received }

  /** True once aborted (read afresh after every await: another call may abort meanwhile). */
  private get aborted (): boolean { return this.state === 'aborted' }

  /** True once the writer has committed or aborted. */
  get finished (): boolean { return this.state === 'done' || this.state === 'aborted' }

  /**
   * Appends a chunk. Resolves when the writer can take more (disk backpressure).
   * Throws {@link BlobTooLongError} if the blob grows past its digest's size.
   *
   * Calls are applied strictly in call order, even when they overlap: a resumed upload may write
   * while the stream it replaced still waits inside an earlier call, and the bytes must reach the
   * file in the order they were hashed.
   */
  async write (chunk: Buffer): Promise<void> {
    if (this.state !== 'open') throw new WriteAbortedError(`write to ${this.digest.hash} after it ${this.state === 'aborted' ? 'was aborted' : 'finished'}`)
    const applied = this.pending.then(async () => { await this.append(chunk) })
    this.pending = applied.catch(() => {})
    await applied
  }

  private async append (chunk: Buffer): Promise<void> {
    if (this.state === 'aborted') throw new WriteAbortedError(`write to ${this.digest.hash} after it was aborted`)
    if (chunk.byteLength === 0) return
    if (this.received + chunk.byteLength > this.digest.sizeBytes) {
      const total = this.received + chunk.byteLength
      await this.discard()
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
    this.host.tempBytesAdded(this, chunk.byteLength)
    if (this.gathering === undefined && chunk.byteLength >= FILE_CHUNK_BYTES) {
      await this.submit(file, chunk)
      return
    }
    for (let at = 0; at < chunk.byteLength;) {
      const gathering = this.gathering ??= this.startGathering()
      const copied = chunk.copy(gathering.buffer, gathering.bytes, at)
      gathering.bytes += copied
      at += copied
      if (gathering.bytes === gathering.buffer.byteLength) {
        await this.submitGathered(file)
        // Aborted while waiting for the disk: stop here (the file is being removed).
        if (this.aborted) throw new WriteAbortedError(`write to ${this.digest.hash} aborted`)
      }
    }
  }

  /**
   * A gathering buffer: a pooled FILE_CHUNK_BYTES one, or for a blob smaller than that a buffer
   * of exactly its size (one write at commit).
   */
  private startGathering (): { buffer: Buffer, bytes: number, pooled: boolean } {
    if (this.digest.sizeBytes >= FILE_CHUNK_BYTES) return { buffer: gatheringBuffers.take(), bytes: 0, pooled: true }
    return { buffer: Buffer.allocUnsafe(this.digest.sizeBytes), bytes: 0, pooled: false }
  }

  /** Submits the gathered bytes (if any) as one write; the buffer returns to the pool after it. */
  private async submitGathered (file: TempFile): Promise<void> {
    const gathering = this.gathering
    this.gathering = undefined
    if (gathering === undefined) return
    if (gathering.bytes === 0) {
      if (gathering.pooled) gatheringBuffers.give(gathering.buffer)
      return
    }
    await this.submit(file, gathering.buffer.subarray(0, gathering.bytes), gathering.pooled ? gathering.buffer : undefined)
  }

  /**
   * Starts a positional write of `data` at the end of the file and waits only when
   * MAX_WRITES_IN_FLIGHT are in flight. `pooled`, if given, goes back to the pool once written.
   */
  private async submit (file: TempFile, data: Buffer, pooled?: Buffer): Promise<void> {
    const position = file.position
    file.position += data.byteLength
    const write = file.handle
      .then(async (handle) => { await writeFully(handle, data, position) })
      .finally(() => { if (pooled !== undefined) gatheringBuffers.give(pooled) })
    file.inflight.push(write.catch((error: Error) => { file.error ??= diskFullOr(error, `cannot write blob ${this.digest.hash}`) as Error }))
    if (file.inflight.length >= MAX_WRITES_IN_FLIGHT) {
      await file.inflight.shift()
      if (file.error != null) throw file.error
    }
  }

  /**
   * Verifies the bytes and makes the blob visible in the store, or throws and stores nothing.
   * Writes accepted before the call are applied first.
   */
  async commit (): Promise<void> {
    if (this.state !== 'open') throw new WriteAbortedError(`commit of ${this.digest.hash} after it ${this.state === 'aborted' ? 'was aborted' : 'finished'}`)
    this.state = 'committing'
    this.committing = this.commitAfterWrites()
    await this.committing
  }

  private async commitAfterWrites (): Promise<void> {
    try {
      await this.pending
      if (this.state !== 'committing') throw new WriteAbortedError(`commit of ${this.digest.hash} after it was aborted`)
      const actualHash = this.hasher.digest('hex')
      if (this.received !== this.digest.sizeBytes || actualHash !== this.digest.hash) {
        throw new DigestMismatchError(this.digest, actualHash, this.received)
      }
      if (this.file == null) {
        await this.host.commitVerified(this.digest, { kind: 'inline', data: Buffer.concat(this.chunks, this.received) })
      } else {
        await this.submitGathered(this.file)
        await this.closeFile(this.file)
        if (this.file.error != null) throw this.file.error
        // The temp file becomes a stored blob: stop counting it as temp bytes first, so the
        // store never counts it twice (which could start an eviction pass too early).
        this.host.writerFinished(this)
        await this.host.commitVerified(this.digest, { kind: 'file', tempPath: this.file.path })
      }
      this.state = 'done'
    } catch (error) {
      await this.discard()
      throw error
    } finally {
      this.host.writerFinished(this)
    }
  }

  /**
   * Discards everything received. Safe to call more than once. During a commit it waits for the
   * commit to finish instead (a commit is never cut short half-way: it stores or discards).
   */
  async abort (): Promise<void> {
    if (this.state === 'committing') {
      await this.committing?.catch(() => {})
      return
    }
    await this.discard()
  }

  private async discard (): Promise<void> {
    if (this.state === 'aborted' || this.state === 'done') return
    this.state = 'aborted'
    this.chunks.length = 0
    if (this.gathering?.pooled === true) gatheringBuffers.give(this.gathering.buffer)
    this.gathering = undefined
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
    // Owner-only whatever the umask: blobs may be private build outputs.
    const file: TempFile = { path, handle: open(path, 'wx', 0o600), position: 0, inflight: [] }
    file.handle.catch((error: Error) => { file.error ??= diskFullOr(error, `cannot write blob ${this.digest.hash}`) as Error })
    this.file = file
    return file
  }

  /**
   * Waits for the writes in flight, then (with fsync) flushes and closes the file. Every caller
   * waits for the same close, so none goes on while writes are still landing.
   */
  private async closeFile (file: TempFile): Promise<void> {
    file.closing ??= this.closeFileNow(file)
    await file.closing
  }

  private async closeFileNow (file: TempFile): Promise<void> {
    await Promise.all(file.inflight)
    file.inflight = []
    let handle: FileHandle
    try { handle = await file.handle } catch { return }
    try {
      if (this.host.fsync && file.error == null) await handle.sync()
    } catch (error) {
      file.error ??= diskFullOr(error, `cannot write blob ${this.digest.hash}`) as Error
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

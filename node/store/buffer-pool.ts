/**
 * Reusable fixed-size buffers for the file writers. A blob arriving in small pieces (Bazel sends
 * 16 KiB ByteStream chunks, libp2p delivers Yamux frames of up to 256 KiB) is gathered into one
 * of these before each positional write, so the disk sees few large writes and no new external
 * memory is allocated per chunk (large allocations drive V8's full GCs; see docs/benchmarks.md).
 */
export class BufferPool {
  private readonly free: Buffer[] = []

  /**
   * @param bufferBytes size of every buffer
   * @param maxRetained buffers kept for reuse once returned; more may be out at once
   */
  constructor (readonly bufferBytes: number, readonly maxRetained: number) {}

  /** A buffer of {@link bufferBytes} (contents undefined), reused when one is free. */
  take (): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes)
  }

  /** Returns a buffer taken from this pool; it must no longer be in use. */
  give (buffer: Buffer): void {
    if (buffer.byteLength === this.bufferBytes && this.free.length < this.maxRetained) this.free.push(buffer)
  }
}

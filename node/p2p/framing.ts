import type { Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { READ_HIGH_WATER_BYTES } from './constants.js'
import { FrameTooLargeError, MalformedFrameError, PeerStalledError, UnexpectedEndError } from './errors.js'

/** Options of {@link StreamReader}. */
export interface StreamReaderInit {
  /** Abort the stream when no bytes arrive for this long while a read waits; 0 = never. */
  stallTimeoutMs: number
  /** Pause the stream (stop granting the muxer window) above this many unread bytes. @default 8 MiB */
  highWaterBytes?: number
}

/**
 * Reads length-prefixed frames and raw byte runs from a libp2p stream. Reading is pull-based:
 * above the high-water mark the stream is paused, so a slow consumer (disk) slows the sender
 * instead of growing a buffer. Every frame length is checked against a cap before buffering.
 */
export class StreamReader {
  private readonly buffer = new Uint8ArrayList()
  private ended = false
  private failure: Error | undefined
  private wake: (() => void) | undefined
  private readonly high: number

  constructor (private readonly stream: Stream, private readonly init: StreamReaderInit) {
    this.high = init.highWaterBytes ?? READ_HIGH_WATER_BYTES
    // The muxer may deliver up to its window after a pause; leave room so that is not an error.
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, this.high * 4)
    stream.addEventListener('message', (event) => {
      this.buffer.append(event.data)
      if (this.buffer.byteLength > this.high && stream.readStatus === 'readable') stream.pause()
      this.notify()
    })
    stream.addEventListener('remoteCloseWrite', () => { this.ended = true; this.notify() })
    stream.addEventListener('close', (event) => {
      this.ended = true
      if (event.error != null) this.failure = event.error
      this.notify()
    })
  }

  /** Bytes received and not yet read. */
  get buffered (): number { return this.buffer.byteLength }

  /**
   * Reads one frame of at most `maxBytes`. Resolves `undefined` when the stream ends cleanly
   * at a frame boundary; throws {@link FrameTooLargeError}, {@link UnexpectedEndError} or
   * {@link PeerStalledError}.
   */
  async readFrame (maxBytes: number): Promise<Uint8Array | undefined> {
    let length = 0
    let shift = 0
    let headerBytes = 0
    for (;;) {
      if (!(await this.need(headerBytes + 1))) {
        if (headerBytes === 0) return undefined
        throw this.endError('in a frame header')
      }
      const byte = this.buffer.get(headerBytes)
      headerBytes++
      length += (byte & 0x7f) * 2 ** shift
      shift += 7
      if ((byte & 0x80) === 0) break
      if (headerBytes >= 5) throw new MalformedFrameError('frame length varint is longer than 5 bytes')
    }
    if (length > maxBytes) throw new FrameTooLargeError(`frame of ${length} bytes exceeds the cap of ${maxBytes}`)
    if (!(await this.need(headerBytes + length))) throw this.endError(`in a frame of ${length} bytes`)
    const frame = this.buffer.subarray(headerBytes, headerBytes + length)
    this.consume(headerBytes + length)
    return frame
  }

  /**
   * Yields exactly `length` raw bytes in the pieces they arrived in (no copy); throws
   * {@link UnexpectedEndError} if the stream ends first.
   */
  async * readBytes (length: number): AsyncGenerator<Uint8Array> {
    let remaining = length
    while (remaining > 0) {
      if (!(await this.need(1))) throw this.endError(`with ${remaining} of ${length} bytes still to come`)
      // Hand out the received pieces as they are: joining them first would copy every byte.
      const pieces: Uint8Array[] = []
      let taken = 0
      for (const piece of this.buffer) {
        if (taken >= remaining) break
        const part = piece.byteLength <= remaining - taken ? piece : piece.subarray(0, remaining - taken)
        pieces.push(part)
        taken += part.byteLength
      }
      this.consume(taken)
      remaining -= taken
      for (const piece of pieces) yield piece
    }
  }

  /**
   * Waits, without the stall timeout, until at least one byte is buffered (true) or the stream
   * has ended (false); rejects with `signal`'s reason when it aborts first. For a server that
   * waits for the next request on a reused stream under its own idle bounds.
   */
  async waitForData (signal: AbortSignal): Promise<boolean> {
    while (this.buffer.byteLength === 0) {
      if (this.ended) return false
      signal.throwIfAborted()
      if (this.stream.readStatus === 'paused') this.stream.resume()
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { this.wake = undefined; reject(signal.reason) }
        this.wake = () => { signal.removeEventListener('abort', onAbort); resolve() }
        signal.addEventListener('abort', onAbort, { once: true })
      })
    }
    return true
  }

  private consume (n: number): void {
    this.buffer.consume(n)
    if (this.buffer.byteLength <= this.high / 2 && this.stream.readStatus === 'paused') this.stream.resume()
  }

  private endError (where: string): Error {
    return new UnexpectedEndError(`stream ended ${where}${this.failure != null ? `: ${this.failure.message}` : ''}`, { cause: this.failure })
  }

  private notify (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Waits until `n` bytes are buffered (true) or the stream has ended (false). */
  private async need (n: number): Promise<boolean> {
    while (this.buffer.byteLength < n) {
      if (this.ended) return false
      if (this.stream.readStatus === 'paused') this.stream.resume()
      await new Promise<void>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined
        this.wake = () => { if (timer !== undefined) clearTimeout(timer); resolve() }
        if (this.init.stallTimeoutMs > 0) {
          timer = setTimeout(() => {
            this.wake = undefined
            const error = new PeerStalledError(`peer sent nothing for ${this.init.stallTimeoutMs} ms`)
            this.stream.abort(error)
            reject(error)
          }, this.init.stallTimeoutMs)
        }
      })
    }
    return true
  }
}

/** Encodes a frame: varint length, then the bytes. */
export function frame (payload: Uint8Array): Uint8ArrayList {
  const header: number[] = []
  let n = payload.byteLength
  do {
    let byte = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    header.push(byte)
  } while (n > 0)
  return new Uint8ArrayList(Uint8Array.from(header), payload)
}

/** Options of {@link send}. */
export interface SendOptions {
  signal?: AbortSignal
  /** Abort the stream if it does not drain within this many ms; 0 or absent = wait forever. */
  stallTimeoutMs?: number
}

/**
 * Sends bytes and waits for the muxer to drain when its buffer is full, so a slow receiver
 * slows us down. Rejects if the stream closes, `signal` aborts, or the receiver stalls.
 */
export async function send (stream: Stream, data: Uint8Array | Uint8ArrayList, options: SendOptions = {}): Promise<void> {
  if (stream.send(data)) return
  const stall = options.stallTimeoutMs ?? 0
  const signals = [options.signal, stall > 0 ? AbortSignal.timeout(stall) : undefined].filter((s) => s !== undefined)
  try {
    await stream.onDrain({ signal: signals.length > 0 ? AbortSignal.any(signals) : undefined })
  } catch (error) {
    const stalled = stall > 0 && options.signal?.aborted !== true && stream.status === 'open'
    const failure = stalled ? new PeerStalledError(`peer did not read for ${stall} ms`, { cause: error }) : error as Error
    stream.abort(failure)
    throw failure
  }
}

/** Sends one frame, honouring backpressure. */
export async function sendFrame (stream: Stream, payload: Uint8Array, options: SendOptions = {}): Promise<void> {
  await send(stream, frame(payload), options)
}

/**
 * Closes our side of `stream`, then waits up to `graceMs` for the peer to close its side; resets
 * the stream if it does not (a stream half-closed forever would hold muxer state). Never throws.
 */
export async function closeGracefully (stream: Stream, graceMs: number): Promise<void> {
  if (stream.status !== 'open') return
  try {
    await stream.close({ signal: AbortSignal.timeout(graceMs) })
    if (stream.status !== 'open') return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`peer did not close its side of the stream within ${graceMs} ms`)) }, graceMs)
      stream.addEventListener('close', () => { clearTimeout(timer); resolve() }, { once: true })
    })
  } catch (error) {
    stream.abort(error as Error)
  }
}

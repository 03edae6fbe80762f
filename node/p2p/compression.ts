import { constants as zlibConstants, zstdCompress, zstdCompressSync, zstdDecompress } from 'node:zlib'
import { promisify } from 'node:util'
import { PeerMisbehavedError } from './errors.js'
import type { StreamReader } from './framing.js'

// Compression of fetch bodies (BodyEncoding.ZSTD_CHUNKS in p2p.proto). The blob is cut into
// chunks of at most ZSTD_CHUNK_BYTES, each compressed on its own (so a receiver never holds more
// than one chunk's output, and a chunk that does not shrink goes as it is). Compression runs on
// libuv's thread pool, beside the event loop.

/** Most bytes one chunk restores to. */
export const ZSTD_CHUNK_BYTES = 1024 * 1024
/** Largest chunk frame a receiver accepts: a chunk, zstd's worst-case growth and the kind byte. */
export const MAX_CHUNK_FRAME_BYTES = ZSTD_CHUNK_BYTES + 64 * 1024
/** Bodies shorter than this always go plain: too little to gain on a LAN. */
export const MIN_COMPRESSED_BODY_BYTES = 64 * 1024
/** Bytes from the start of a body the server compresses to judge it. */
export const COMPRESSION_SAMPLE_BYTES = 64 * 1024
/**
 * A body is compressed only if its sample shrinks to at most this share: below it, the saving
 * on the link outweighs the CPU (zstd level 1 runs at several hundred MB/s per core, a 1 Gbit/s
 * link carries 125 MB/s).
 */
export const COMPRESSION_WORTH_RATIO = 0.85
/** zstd level: the fastest standard one (the link, not the ratio, is the limit). */
export const ZSTD_LEVEL = 1

/** A chunk payload's first byte. */
const CHUNK_STORED = 0
const CHUNK_ZSTD = 1

const compressAsync = promisify(zstdCompress) as (data: Uint8Array, options: ZstdOptions) => Promise<Buffer>
const decompressAsync = promisify(zstdDecompress) as (data: Uint8Array, options: { maxOutputLength: number, chunkSize: number }) => Promise<Buffer>
const ZSTD_OPTIONS = { params: { [zlibConstants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } }
type ZstdOptions = typeof ZSTD_OPTIONS & { chunkSize?: number }

/**
 * The output buffer size of one zlib call that is to produce about `bytes`. zlib's one-shot
 * functions fill output buffers of `chunkSize` (16 KiB by default) and return to JavaScript
 * between two of them: a 1 MiB chunk took 64 trips between the thread pool and the event loop
 * (measured: 3.0 ms to restore a 1 MiB chunk with the default, 0.9 ms with one buffer; 2.4 vs
 * 1.2 ms to compress an incompressible one). One buffer of the expected size needs one trip.
 */
function outputChunk (bytes: number): number {
  return Math.max(zlibConstants.Z_MIN_CHUNK, bytes)
}

/** True when `sample` (the first bytes of a body) compresses well enough to be worth it. */
export function worthCompressing (sample: Uint8Array): boolean {
  if (sample.byteLength === 0) return false
  return zstdCompressSync(sample, ZSTD_OPTIONS).byteLength <= sample.byteLength * COMPRESSION_WORTH_RATIO
}

/** Chunks a sender compresses at once (on the thread pool), ahead of the one being sent. */
export const COMPRESS_AHEAD = 3

/**
 * Encodes a body as chunk payloads (without the frame length): gathers `source` into chunks of
 * {@link ZSTD_CHUNK_BYTES}, compresses up to {@link COMPRESS_AHEAD} at once while the oldest
 * is sent, and sends a chunk that does not shrink as it is.
 */
export async function * encodeChunks (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const pending: Array<Promise<Uint8Array>> = []
  try {
    for await (const chunk of gather(source, ZSTD_CHUNK_BYTES)) {
      const next = encodeChunk(chunk)
      next.catch(() => {})
      pending.push(next)
      if (pending.length >= COMPRESS_AHEAD) yield await pending.shift()!
    }
    while (pending.length > 0) yield await pending.shift()!
  } finally {
    pending.length = 0
  }
}

async function encodeChunk (chunk: Buffer): Promise<Uint8Array> {
  // Room for the chunk as it is, plus zstd's frame overhead: a chunk that does not shrink is sent as it is anyway.
  const packed = await compressAsync(chunk, { ...ZSTD_OPTIONS, chunkSize: outputChunk(chunk.byteLength + 1024) })
  if (packed.byteLength < chunk.byteLength) return Buffer.concat([Buffer.of(CHUNK_ZSTD), packed])
  return Buffer.concat([Buffer.of(CHUNK_STORED), chunk])
}

/** Re-cuts a byte stream into chunks of exactly `size` bytes (the last may be shorter). */
async function * gather (source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let parts: Uint8Array[] = []
  let held = 0
  for await (const data of source) {
    let at = 0
    while (at < data.byteLength) {
      const take = Math.min(size - held, data.byteLength - at)
      parts.push(data.subarray(at, at + take))
      held += take
      at += take
      if (held === size) {
        yield Buffer.concat(parts, held)
        parts = []
        held = 0
      }
    }
  }
  if (held > 0) yield Buffer.concat(parts, held)
}

/**
 * Reads a ZSTD_CHUNKS body of `length` restored bytes from `reader` and yields the restored
 * bytes. Every frame is capped before it is buffered and every chunk restores to at most its
 * due size (never past it: zstd stops there), so a peer cannot make us hold more than two
 * chunks; a malformed or wrongly sized chunk is a {@link PeerMisbehavedError}. The bytes are not verified here:
 * the caller's writer checks SHA-256 and size as for a plain body.
 */
export async function * decodeChunks (reader: StreamReader, length: number, peer: string): AsyncGenerator<Uint8Array> {
  // Every chunk but the last restores to exactly ZSTD_CHUNK_BYTES, so the size of each is known
  // before it is restored: one chunk is restored (on the thread pool) while the next is read.
  let remaining = length
  let pending: Promise<Uint8Array> | undefined
  while (remaining > 0) {
    const payload = await reader.readFrame(MAX_CHUNK_FRAME_BYTES)
    if (payload === undefined) throw new PeerMisbehavedError(`peer ${peer} ended a compressed body with ${remaining} of ${length} bytes still due`)
    const size = Math.min(remaining, ZSTD_CHUNK_BYTES)
    const restoring = restoreChunk(payload, size, peer)
    restoring.catch(() => {})
    if (pending !== undefined) yield await pending
    pending = restoring
    remaining -= size
  }
  if (pending !== undefined) yield await pending
}

/** One chunk payload's bytes, which must be exactly `size` (a zstd chunk is never restored past it). */
async function restoreChunk (payload: Uint8Array, size: number, peer: string): Promise<Uint8Array> {
  let restored: Uint8Array
  if (payload[0] === CHUNK_STORED) {
    restored = payload.subarray(1)
  } else if (payload[0] === CHUNK_ZSTD) {
    try {
      restored = await decompressAsync(payload.subarray(1), { maxOutputLength: size, chunkSize: outputChunk(size) })
    } catch (error) {
      throw new PeerMisbehavedError(`peer ${peer} sent a zstd chunk that does not restore to ${size} bytes: ${(error as Error).message}`, { cause: error })
    }
  } else {
    throw new PeerMisbehavedError(`peer ${peer} sent a chunk of unknown kind ${payload[0]}`)
  }
  if (restored.byteLength !== size) throw new PeerMisbehavedError(`peer ${peer} sent a chunk of ${restored.byteLength} bytes where ${size} were due`)
  return restored
}

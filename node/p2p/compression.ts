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

const compressAsync = promisify(zstdCompress)
const decompressAsync = promisify(zstdDecompress) as (data: Uint8Array, options: { maxOutputLength: number }) => Promise<Buffer>
const ZSTD_OPTIONS = { params: { [zlibConstants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } }

/** True when `sample` (the first bytes of a body) compresses well enough to be worth it. */
export function worthCompressing (sample: Uint8Array): boolean {
  if (sample.byteLength === 0) return false
  return zstdCompressSync(sample, ZSTD_OPTIONS).byteLength <= sample.byteLength * COMPRESSION_WORTH_RATIO
}

/**
 * Encodes a body as chunk payloads (without the frame length): gathers `source` into chunks of
 * {@link ZSTD_CHUNK_BYTES}, compresses each (the next one while the current one is sent), and
 * sends a chunk that does not shrink as it is.
 */
export async function * encodeChunks (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let pending: Promise<Uint8Array> | undefined
  for await (const chunk of gather(source, ZSTD_CHUNK_BYTES)) {
    const next = encodeChunk(chunk)
    if (pending !== undefined) yield await pending
    pending = next
  }
  if (pending !== undefined) yield await pending
}

async function encodeChunk (chunk: Buffer): Promise<Uint8Array> {
  const packed = await compressAsync(chunk, ZSTD_OPTIONS)
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
 * bytes. Every frame is capped before it is buffered and every chunk may restore to at most the
 * bytes still due (and {@link ZSTD_CHUNK_BYTES}), so a peer cannot make us hold more than one
 * chunk; a malformed chunk is a {@link PeerMisbehavedError}. The bytes are not verified here:
 * the caller's writer checks SHA-256 and size as for a plain body.
 */
export async function * decodeChunks (reader: StreamReader, length: number, peer: string): AsyncGenerator<Uint8Array> {
  let remaining = length
  while (remaining > 0) {
    const payload = await reader.readFrame(MAX_CHUNK_FRAME_BYTES)
    if (payload === undefined) throw new PeerMisbehavedError(`peer ${peer} ended a compressed body with ${remaining} of ${length} bytes still due`)
    if (payload.byteLength < 2) throw new PeerMisbehavedError(`peer ${peer} sent an empty compressed chunk`)
    const bound = Math.min(remaining, ZSTD_CHUNK_BYTES)
    let restored: Uint8Array
    if (payload[0] === CHUNK_STORED) {
      restored = payload.subarray(1)
      if (restored.byteLength > bound) throw new PeerMisbehavedError(`peer ${peer} sent a stored chunk of ${restored.byteLength} bytes where at most ${bound} were due`)
    } else if (payload[0] === CHUNK_ZSTD) {
      try {
        restored = await decompressAsync(payload.subarray(1), { maxOutputLength: bound })
      } catch (error) {
        throw new PeerMisbehavedError(`peer ${peer} sent a zstd chunk that does not restore to at most ${bound} bytes: ${(error as Error).message}`, { cause: error })
      }
      if (restored.byteLength === 0) throw new PeerMisbehavedError(`peer ${peer} sent a zstd chunk that restores to nothing`)
    } else {
      throw new PeerMisbehavedError(`peer ${peer} sent a chunk of unknown kind ${payload[0]}`)
    }
    remaining -= restored.byteLength
    yield restored
  }
}

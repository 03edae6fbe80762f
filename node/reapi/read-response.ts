/**
 * ByteStream.Read responses encoded by hand, straight into the buffer the file was read into,
 * with room left for the gRPC message prefix, so no byte is copied between the file read and
 * HTTP/2 (see in-place-framing.ts). A ReadResponse is a single field: `bytes data = 10`.
 */

import { GRPC_MESSAGE_PREFIX_BYTES, markPrefixRoom } from './in-place-framing.js'

/** Tag of field 10 with wire type 2 (length-delimited). */
const DATA_FIELD_TAG = 0x52

/**
 * Bytes to leave free before the data in a buffer passed to {@link encodeReadResponseInPlace}:
 * the field header (at most 6 bytes) and the gRPC message prefix (in-place-framing.ts).
 */
export const READ_RESPONSE_HEADROOM = 16

/**
 * Writes the ReadResponse header just before `buffer[dataStart]` (which needs at least
 * {@link READ_RESPONSE_HEADROOM} bytes of room) and returns the encoded message, a view of
 * `buffer` with no copy.
 */
export function encodeReadResponseInPlace (buffer: Buffer, dataStart: number, dataLength: number): Buffer {
  const varint: number[] = []
  let n = dataLength
  do {
    const low = n % 128
    n = Math.floor(n / 128)
    varint.push(n > 0 ? low | 0x80 : low)
  } while (n > 0)
  const start = dataStart - 1 - varint.length
  if (start < 0) throw new RangeError(`need ${1 + varint.length} bytes of headroom, have ${dataStart}`)
  buffer[start] = DATA_FIELD_TAG
  for (let i = 0; i < varint.length; i++) buffer[start + 1 + i] = varint[i]!
  const message = buffer.subarray(start, dataStart + dataLength)
  return start >= GRPC_MESSAGE_PREFIX_BYTES ? markPrefixRoom(message) : message
}

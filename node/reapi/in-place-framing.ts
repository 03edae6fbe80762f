import { createRequire } from 'node:module'

/** Bytes of the gRPC message prefix: a compressed flag and a 4-byte big-endian length. */
export const GRPC_MESSAGE_PREFIX_BYTES = 5

/** Marks a response Buffer whose memory has room for the gRPC prefix just before it. */
const HAS_PREFIX_ROOM = Symbol('peercas.hasGrpcPrefixRoom')

type Framable = Buffer & { [HAS_PREFIX_ROOM]?: true }

/**
 * Marks `message` (an encoded response) as having at least {@link GRPC_MESSAGE_PREFIX_BYTES}
 * bytes of its underlying memory free just before it, so the server can frame it in place.
 */
export function markPrefixRoom (message: Buffer): Buffer {
  if (message.byteOffset < GRPC_MESSAGE_PREFIX_BYTES) throw new RangeError(`a message at byte ${message.byteOffset} has no room for the gRPC prefix`)
  ;(message as Framable)[HAS_PREFIX_ROOM] = true
  return message
}

let installed = false

/** grpc-js's server call class, or undefined if this grpc-js does not have it where 1.x does. */
function serverCallClass (): { prototype: Record<string, unknown> } | undefined {
  try {
    const module = createRequire(import.meta.url)('@grpc/grpc-js/build/src/server-interceptors.js') as { BaseServerInterceptingCall?: { prototype: Record<string, unknown> } }
    return module.BaseServerInterceptingCall
  } catch {
    return undefined
  }
}

/**
 * Makes grpc-js frame marked responses in place: it writes the 5-byte message prefix into the
 * room before the encoded bytes and hands that view to HTTP/2, instead of allocating a new buffer
 * and copying the message into it (grpc-js 1.x `serializeMessage`). That copy is one allocation
 * and one memcpy per ByteStream.Read chunk. Unmarked responses take grpc-js's own path.
 *
 * Installed only when grpc-js has that method where 1.x has it and the method still does exactly
 * what this replaces (checked on a probe message: prefix, then the serialized bytes); otherwise
 * Read keeps grpc-js's copy. package.json pins grpc-js to the version this was checked against.
 * Returns whether the fast path is active.
 */
export function installInPlaceFraming (): boolean {
  if (installed) return true
  const prototype = serverCallClass()?.prototype
  const original = prototype?.serializeMessage
  if (prototype === undefined || typeof original !== 'function') return false
  const serialize = original as (this: unknown, value: unknown) => unknown
  const probe = Buffer.from('peercas')
  let framedByGrpc: unknown
  try {
    framedByGrpc = serialize.call({ handler: { serialize: (value: Buffer) => value } }, probe)
  } catch {
    return false
  }
  const expected = Buffer.concat([Buffer.from([0, 0, 0, 0, probe.byteLength]), probe])
  if (!Buffer.isBuffer(framedByGrpc) || !framedByGrpc.equals(expected)) return false
  prototype.serializeMessage = function (this: unknown, value: unknown): Buffer {
    if (Buffer.isBuffer(value) && (value as Framable)[HAS_PREFIX_ROOM] === true) {
      const framed = Buffer.from(value.buffer, value.byteOffset - GRPC_MESSAGE_PREFIX_BYTES, value.byteLength + GRPC_MESSAGE_PREFIX_BYTES)
      framed[0] = 0
      framed.writeUInt32BE(value.byteLength, 1)
      return framed
    }
    return serialize.call(this, value) as Buffer
  }
  installed = true
  return true
}

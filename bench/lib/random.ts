import { randomFillSync } from 'node:crypto'

/** `size` random bytes (filled 64 MiB per call, so sizes over randomFillSync's limit work too). */
export function randomBuffer (size: number): Buffer<ArrayBuffer> {
  const buffer = Buffer.allocUnsafe(size)
  for (let at = 0; at < size; at += 64 << 20) randomFillSync(buffer, at, Math.min(64 << 20, size - at))
  return buffer
}

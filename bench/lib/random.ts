import { randomFillSync } from 'node:crypto'

/** `size` random bytes (filled 64 MiB per call, so sizes over randomFillSync's limit work too). */
export function randomBuffer (size: number): Buffer<ArrayBuffer> {
  const buffer = Buffer.allocUnsafe(size)
  for (let at = 0; at < size; at += 64 << 20) randomFillSync(buffer, at, Math.min(64 << 20, size - at))
  return buffer
}

/**
 * `size` bytes of compressible text, like the source and generated code among build outputs:
 * lines of code-like tokens with random identifiers and numbers (zstd -1 shrinks it ≈ 3×, about as much as it shrinks source trees and generated code).
 */
export function textBuffer (size: number): Buffer<ArrayBuffer> {
  const words = ['const', 'return', 'function', 'import', 'export', 'if', 'else', 'for', 'while', 'class', 'new', 'this', 'static', 'void', 'int', 'string', 'value', 'result', 'config', 'buffer', 'index', 'length', 'error', 'module', 'build', 'target']
  const out = Buffer.allocUnsafe(size)
  let at = 0
  const next = (n: number): number => Math.floor(Math.random() * n)
  while (at < size) {
    let line = ' '.repeat(2 * next(4))
    const tokens = 3 + next(8)
    for (let t = 0; t < tokens; t++) {
      const r = next(10)
      line += r < 6 ? words[next(words.length)]! : r < 8 ? `id${next(1000).toString(36)}` : String(next(1000))
      line += t === tokens - 1 ? ';\n' : next(3) === 0 ? '(' : ' '
    }
    at += out.write(line, at, 'latin1')
  }
  return out
}

// REAPI compressed-blobs/zstd over ByteStream with a real grpc-js client, and the capability
// that advertises it.
import { describe, it, expect, afterAll, beforeAll } from 'vitest'
import { randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib'
import { status } from '@grpc/grpc-js'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { expectRpcError, collect } from '../helpers/grpc.js'
import { byteStreamUpload, unary } from '../../node/reapi/clients.js'
import { digestOf } from '../../node/store/digest.js'
import type { ReadResponse__Output } from '../../node/generated/google/bytestream/ReadResponse.js'
import type { WriteRequest } from '../../node/generated/google/bytestream/WriteRequest.js'

function text (bytes: number): Buffer {
  let s = ''
  for (let i = 0; s.length < bytes; i++) s += `line ${i}: int f${i % 50}(void) { return ${i % 13}; }\n`
  return Buffer.from(s.slice(0, bytes))
}

describe('ByteStream compressed-blobs/zstd', () => {
  let node: TestNode
  let bs: TestNode['clients']['byteStream']
  beforeAll(async () => { node = await startTestNode(); bs = node.clients.byteStream })
  afterAll(async () => { await node.stop() })

  const read = async (resourceName: string, readOffset = 0, readLimit = 0): Promise<Buffer> => {
    const parts = await collect<ReadResponse__Output>(bs.Read({ resourceName, readOffset, readLimit }))
    return Buffer.concat(parts.map((p) => p.data))
  }
  const write = async (messages: WriteRequest[]): Promise<number> => await new Promise((resolve, reject) => {
    const call = bs.Write((error, response) => { if (error != null) reject(error); else resolve(Number(response!.committedSize)) })
    void (async () => {
      for (const m of messages) if (!call.write(m)) await once(call, 'drain')
      call.end()
    })()
  })
  /** A compressed upload of `compressed` in `parts` messages (offsets count compressed bytes). */
  const compressedWrite = async (hash: string, size: number, compressed: Buffer, parts = 3): Promise<number> => {
    const name = `uploads/${randomUUID()}/compressed-blobs/zstd/${hash}/${size}`
    const step = Math.ceil(compressed.byteLength / parts)
    const messages: WriteRequest[] = []
    for (let at = 0; at < compressed.byteLength; at += step) {
      messages.push({ resourceName: at === 0 ? name : '', writeOffset: at, data: compressed.subarray(at, at + step), finishWrite: at + step >= compressed.byteLength })
    }
    return await write(messages)
  }

  it('advertises zstd in its capabilities', async () => {
    const caps = await unary(node.clients.capabilities.GetCapabilities.bind(node.clients.capabilities), {})
    expect(caps.cacheCapabilities!.supportedCompressors).toEqual(['ZSTD'])
  })

  it('round-trips a blob written compressed and read back compressed, plain and by range', async () => {
    const data = text(5_000_000)
    const d = digestOf(data)
    const compressed = zstdCompressSync(data)
    expect(await compressedWrite(d.hash, d.sizeBytes, compressed)).toBe(compressed.byteLength)
    expect((await read(`blobs/${d.hash}/${d.sizeBytes}`)).equals(data)).toBe(true)
    const back = await read(`compressed-blobs/zstd/${d.hash}/${d.sizeBytes}`)
    expect(back.byteLength).toBeLessThan(data.byteLength / 3)
    expect(zstdDecompressSync(back).equals(data)).toBe(true)
    // Offset and limit are in uncompressed bytes.
    const range = await read(`compressed-blobs/zstd/${d.hash}/${d.sizeBytes}`, 1_000_000, 2_000_000)
    expect(zstdDecompressSync(range).equals(data.subarray(1_000_000, 3_000_000))).toBe(true)
    // Writing it again: already there, -1 as the REAPI asks of compressed uploads.
    expect(await compressedWrite(d.hash, d.sizeBytes, compressed)).toBe(-1)
  })

  it('reads a blob written plain compressed, and an incompressible one too', async () => {
    const data = randomBytes(300_000)
    const d = digestOf(data)
    expect(await byteStreamUpload(bs, d, data)).toBe(d.sizeBytes)
    expect(zstdDecompressSync(await read(`compressed-blobs/zstd/${d.hash}/${d.sizeBytes}`)).equals(data)).toBe(true)
    const small = Buffer.from('tiny')
    const ds = digestOf(small)
    await byteStreamUpload(bs, ds, small)
    expect(zstdDecompressSync(await read(`compressed-blobs/zstd/${ds.hash}/${ds.sizeBytes}`)).equals(small)).toBe(true)
  })

  it('refuses a compressed upload whose bytes restore to something else, or to more than the digest says', async () => {
    const data = text(200_000)
    const d = digestOf(data)
    const other = zstdCompressSync(Buffer.concat([data.subarray(0, 199_999), Buffer.from('!')]))
    await expectRpcError(compressedWrite(d.hash, d.sizeBytes, other), status.INVALID_ARGUMENT)
    // 64 MiB of zeros in a few KiB, claimed as a 200 kB blob: stopped at the digest's size.
    const bomb = zstdCompressSync(Buffer.alloc(64 * 1024 * 1024))
    await expectRpcError(compressedWrite(d.hash, d.sizeBytes, bomb, 1), status.INVALID_ARGUMENT)
    await expectRpcError(compressedWrite(d.hash, d.sizeBytes, Buffer.from('not zstd at all'), 1), status.INVALID_ARGUMENT)
    const missing = await unary(node.clients.cas.FindMissingBlobs.bind(node.clients.cas), { blobDigests: [d] })
    expect(missing.missingBlobDigests.length).toBe(1)
  })
})

import { describe, it, expect, afterAll, beforeAll } from 'vitest'
import { randomBytes, randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { open, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { expectRpcError, collect } from '../helpers/grpc.js'
import { byteStreamUpload, unary } from '../../node/reapi/clients.js'
import { digestOf, EMPTY_DIGEST, type Digest } from '../../node/store/digest.js'
import { installInPlaceFraming } from '../../node/reapi/in-place-framing.js'
import type { ReadResponse__Output } from '../../node/generated/google/bytestream/ReadResponse.js'
import type { WriteRequest } from '../../node/generated/google/bytestream/WriteRequest.js'

describe('ByteStream', () => {
  let node: TestNode
  let bs: TestNode['clients']['byteStream']
  beforeAll(async () => { node = await startTestNode(); bs = node.clients.byteStream })
  afterAll(async () => { await node.stop() })

  const read = async (resourceName: string, readOffset = 0, readLimit = 0): Promise<Buffer> => {
    const parts = await collect<ReadResponse__Output>(bs.Read({ resourceName, readOffset, readLimit }))
    return Buffer.concat(parts.map((p) => p.data))
  }
  const has = async (d: Digest): Promise<boolean> => (await unary(node.clients.cas.FindMissingBlobs.bind(node.clients.cas), { blobDigests: [d] })).missingBlobDigests.length === 0

  /** Sends raw WriteRequests and returns the server's answer. */
  const rawWrite = async (messages: WriteRequest[], { end = true } = {}): Promise<number> => await new Promise((resolve, reject) => {
    const call = bs.Write((error, response) => { if (error != null) reject(error); else resolve(Number(response!.committedSize)) })
    void (async () => {
      for (const m of messages) if (!call.write(m)) await once(call, 'drain')
      if (end) call.end(); else setTimeout(() => { call.cancel() }, 100)
    })()
  })

  it('writes a 20 MB blob in chunks and reads it back whole, by range and to the end', async () => {
    const data = randomBytes(20 * 1024 * 1024)
    const d = digestOf(data)
    expect(await byteStreamUpload(bs, d, data, { chunkBytes: 256 * 1024 })).toBe(d.sizeBytes)
    expect((await read(`blobs/${d.hash}/${d.sizeBytes}`)).equals(data)).toBe(true)
    expect((await read(`blobs/${d.hash}/${d.sizeBytes}`, 1_000_000, 3_000_000)).equals(data.subarray(1_000_000, 4_000_000))).toBe(true)
    expect((await read(`blobs/${d.hash}/${d.sizeBytes}`, d.sizeBytes - 10)).equals(data.subarray(d.sizeBytes - 10))).toBe(true)
  })

  it('frames Read chunks in place through the grpc-js hook, byte-exact across chunk boundaries', async () => {
    // The hook must still exist in the grpc-js we ship (else Read falls back to a copy per chunk).
    expect(installInPlaceFraming()).toBe(true)
    const data = randomBytes(3 * 1024 * 1024 + 7)
    const d = digestOf(data)
    await byteStreamUpload(bs, d, data)
    const parts = await collect<ReadResponse__Output>(bs.Read({ resourceName: `blobs/${d.hash}/${d.sizeBytes}`, readOffset: 5, readLimit: 0 }))
    expect(parts.length).toBeGreaterThan(1)
    expect(Buffer.concat(parts.map((p) => p.data)).equals(data.subarray(5))).toBe(true)
  })

  it('accepts resource names with an instance-name prefix and trailing metadata', async () => {
    const data = randomBytes(5000)
    const d = digestOf(data)
    const name = `team/ci/uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}/some/metadata`
    expect(await rawWrite([{ resourceName: name, writeOffset: 0, data, finishWrite: true }])).toBe(5000)
    expect((await read(`team/ci/blobs/${d.hash}/${d.sizeBytes}`)).equals(data)).toBe(true)
  })

  it('reads the empty blob without it ever being written', async () => {
    expect((await read(`blobs/${EMPTY_DIGEST.hash}/0`)).byteLength).toBe(0)
  })

  it('completes at once with the full size when the blob already exists', async () => {
    const data = randomBytes(100_000)
    const d = digestOf(data)
    await byteStreamUpload(bs, d, data)
    const committed = await rawWrite([{ resourceName: `uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}`, writeOffset: 0, data: data.subarray(0, 10), finishWrite: false }], { end: false })
    expect(committed).toBe(d.sizeBytes)
  })

  it('resumes an interrupted upload from the offset QueryWriteStatus reports', async () => {
    const data = randomBytes(3 * 1024 * 1024)
    const d = digestOf(data)
    const name = `uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}`
    await expectRpcError(rawWrite([
      { resourceName: name, writeOffset: 0, data: data.subarray(0, 1_000_000), finishWrite: false },
      { writeOffset: 1_000_000, data: data.subarray(1_000_000, 1_500_000), finishWrite: false }
    ]), status.INVALID_ARGUMENT, /without finish_write; resume it/)
    const q = await unary(bs.QueryWriteStatus.bind(bs), { resourceName: name })
    expect(q).toMatchObject({ committedSize: 1_500_000, complete: false })
    expect(await has(d)).toBe(false)
    await expectRpcError(rawWrite([{ resourceName: name, writeOffset: 1000, data: data.subarray(1000), finishWrite: true }]), status.INVALID_ARGUMENT, /write_offset 1000 does not continue/)
    // The bad offset ended that upload: start over.
    const fresh = `uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}`
    await expectRpcError(rawWrite([{ resourceName: fresh, writeOffset: 0, data: data.subarray(0, 2_000_000), finishWrite: false }]), status.INVALID_ARGUMENT)
    expect(await rawWrite([{ resourceName: fresh, writeOffset: 2_000_000, data: data.subarray(2_000_000), finishWrite: true }])).toBe(d.sizeBytes)
    expect(await unary(bs.QueryWriteStatus.bind(bs), { resourceName: fresh })).toMatchObject({ committedSize: d.sizeBytes, complete: true })
    expect((await read(`blobs/${d.hash}/${d.sizeBytes}`)).equals(data)).toBe(true)
  })

  it('stores exactly the uploaded bytes when a cancelled upload is resumed while its old stream still waits on a slow disk', async () => {
    // A slow disk: every file write of 512 KiB or more takes 300 ms.
    const probe = await open(join(node.dataDir, 'probe'), 'w')
    const handlePrototype = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> }
    await probe.close()
    const realWrite = handlePrototype.write
    handlePrototype.write = async function (this: unknown, ...args: unknown[]) {
      if (Number(args[2] ?? (args[0] as Buffer).byteLength) >= 512 * 1024) await new Promise((resolve) => setTimeout(resolve, 300))
      return await realWrite.apply(this, args)
    }
    try {
      const KiB = 1024
      const data = randomBytes(5 * 1024 * KiB)
      const d = digestOf(data)
      const name = `uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}`
      const call = bs.Write(() => {})
      let at = 0
      const send = (n: number): void => { call.write({ resourceName: at === 0 ? name : '', writeOffset: at, data: data.subarray(at, at + n), finishWrite: false }); at += n }
      for (let i = 0; i < 15; i++) send(256 * KiB)
      send(248 * KiB)
      send(16 * KiB) // straddles a 1 MiB gathering buffer; its write waits for the slow disk
      await new Promise((resolve) => setTimeout(resolve, 100))
      call.cancel()
      await new Promise((resolve) => setTimeout(resolve, 20))
      const offset = Number((await unary(bs.QueryWriteStatus.bind(bs), { resourceName: name })).committedSize)
      const committed = await new Promise<number>((resolve, reject) => {
        const resumed = bs.Write((error, response) => { if (error != null) reject(error); else resolve(Number(response!.committedSize)) })
        resumed.write({ resourceName: name, writeOffset: offset, data: data.subarray(offset, offset + 100_000), finishWrite: false })
        setTimeout(() => { resumed.write({ writeOffset: offset + 100_000, data: data.subarray(offset + 100_000), finishWrite: true }); resumed.end() }, 600)
      })
      expect(committed).toBe(d.sizeBytes)
      expect((await read(`blobs/${d.hash}/${d.sizeBytes}`)).equals(data)).toBe(true)
    } finally {
      handlePrototype.write = realWrite
    }
  })

  it('never stores a blob from a client that disconnects half-way, and a restart removes its partial bytes', async () => {
    const short = await startTestNode()
    try {
      const data = randomBytes(2 * 1024 * 1024)
      const d = digestOf(data)
      const name = `uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}`
      const call = short.clients.byteStream.Write(() => {})
      call.write({ resourceName: name, writeOffset: 0, data: data.subarray(0, 1_000_000), finishWrite: false })
      await new Promise((resolve) => setTimeout(resolve, 200))
      call.cancel()
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(await short.store.has(d)).toBe(false)
      await short.stop()
      // After a restart the partial temp file is gone too.
      expect(await readdir(join(short.dataDir, 'tmp')).catch(() => [])).toEqual([])
    } finally {
      await short.stop()
    }
  })

  it('rejects a write whose final size differs from the resource name and stores nothing', async () => {
    const data = randomBytes(10_000)
    const d = digestOf(data)
    await expectRpcError(rawWrite([{ resourceName: `uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}`, writeOffset: 0, data: data.subarray(0, 9000), finishWrite: true }]), status.INVALID_ARGUMENT, /received 9000 bytes, expected 10000/)
    await expectRpcError(rawWrite([{ resourceName: `uploads/${randomUUID()}/blobs/${d.hash}/9000`, writeOffset: 0, data, finishWrite: true }]), status.INVALID_ARGUMENT, /received 10000 bytes, expected 9000/)
    expect(await has(d)).toBe(false)
  })

  it('rejects bytes that do not hash to the resource name', async () => {
    const data = randomBytes(200_000)
    const fake = digestOf(randomBytes(200_000))
    await expectRpcError(rawWrite([{ resourceName: `uploads/${randomUUID()}/blobs/${fake.hash}/${fake.sizeBytes}`, writeOffset: 0, data, finishWrite: true }]), status.INVALID_ARGUMENT, /hash to/)
    expect(await has(fake)).toBe(false)
    expect(await readdir(join(node.dataDir, 'tmp'))).toEqual([])
  })

  it('refuses resource names with traversal, bad sizes, other digest functions or compression', async () => {
    const h = digestOf(Buffer.from('x')).hash
    const cases: Array<[string, status, RegExp]> = [
      [`../blobs/${h}/1`, status.INVALID_ARGUMENT, /"\.\."/],
      [`a//blobs/${h}/1`, status.INVALID_ARGUMENT, /empty/],
      [`blobs/${h}/-1`, status.INVALID_ARGUMENT, /size/],
      [`blobs/${h}/1e3`, status.INVALID_ARGUMENT, /size/],
      [`blobs/${h.toUpperCase()}/1`, status.INVALID_ARGUMENT, /lower-case/],
      [`blobs/blake3/${h}/1`, status.INVALID_ARGUMENT, /digest function "blake3"/],
      [`compressed-blobs/deflate/${h}/1`, status.UNIMPLEMENTED, /compressor "deflate"/],
      [`blobs/${h}`, status.INVALID_ARGUMENT, /hash and size/],
      [`uploads/x/blobs/${h}/1`, status.INVALID_ARGUMENT, /reserved segment "uploads"/],
      ['', status.INVALID_ARGUMENT, /empty/]
    ]
    for (const [name, code, message] of cases) await expectRpcError(read(name), code, message)
    await expectRpcError(rawWrite([{ resourceName: `uploads/../blobs/${h}/1`, writeOffset: 0, data: Buffer.from('x'), finishWrite: true }]), status.INVALID_ARGUMENT, /"\.\."/)
    await expectRpcError(rawWrite([{ resourceName: `blobs/${h}/1`, writeOffset: 0, data: Buffer.from('x'), finishWrite: true }]), status.INVALID_ARGUMENT, /uploads/)
    await expectRpcError(rawWrite([{ resourceName: '', writeOffset: 0, data: Buffer.from('x'), finishWrite: true }]), status.INVALID_ARGUMENT, /no resource_name/)
  })

  it('answers NOT_FOUND for a missing blob and OUT_OF_RANGE for an offset past the end', async () => {
    const data = randomBytes(100)
    const d = digestOf(data)
    await byteStreamUpload(bs, d, data)
    const absent = digestOf(randomBytes(100))
    await expectRpcError(read(`blobs/${absent.hash}/100`), status.NOT_FOUND, new RegExp(absent.hash))
    await expectRpcError(read(`blobs/${d.hash}/100`, 101), status.OUT_OF_RANGE, /past the end/)
    await expectRpcError(read(`blobs/${d.hash}/100`, -1), status.OUT_OF_RANGE, /negative/)
    await expectRpcError(read(`blobs/${d.hash}/100`, 0, -1), status.INVALID_ARGUMENT, /read_limit/)
  })

  it('refuses a second stream on a busy upload without harming the first one', async () => {
    const data = randomBytes(3 * 1024 * 1024)
    const d = digestOf(data)
    const name = `uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}`
    let answer: { error: unknown, committed?: number } | undefined
    const a = bs.Write((error, response) => { answer = { error, committed: response == null ? undefined : Number(response.committedSize) } })
    a.write({ resourceName: name, writeOffset: 0, data: data.subarray(0, 1_000_000), finishWrite: false })
    await new Promise((resolve) => setTimeout(resolve, 200))
    // B opens the same name while A is still sending, and is refused.
    await expectRpcError(rawWrite([{ resourceName: name, writeOffset: 0, data: data.subarray(0, 10), finishWrite: false }]), status.INVALID_ARGUMENT, /already in progress/)
    // B tries again and cancels: still not its upload to keep or drop.
    const again = rawWrite([{ resourceName: name, writeOffset: 0, data: data.subarray(0, 10), finishWrite: false }], { end: false })
    await expectRpcError(again, status.INVALID_ARGUMENT, /already in progress/)
    expect(await unary(bs.QueryWriteStatus.bind(bs), { resourceName: name })).toMatchObject({ committedSize: 1_000_000, complete: false })
    a.write({ writeOffset: 1_000_000, data: data.subarray(1_000_000), finishWrite: true })
    a.end()
    while (answer === undefined) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(answer.error).toBeNull()
    expect(answer.committed).toBe(d.sizeBytes)
    expect((await read(`blobs/${d.hash}/${d.sizeBytes}`)).equals(data)).toBe(true)
  })

  it('lets concurrent writers of one digest all succeed with one stored copy', async () => {
    const data = randomBytes(4 * 1024 * 1024)
    const d = digestOf(data)
    const before = node.store.stats().blobCount
    const results = await Promise.all(Array.from({ length: 6 }, async () => await byteStreamUpload(bs, d, data, { chunkBytes: 64 * 1024 })))
    expect(results).toEqual(Array(6).fill(d.sizeBytes))
    expect(node.store.stats().blobCount).toBe(before + 1)
    expect((await read(`blobs/${d.hash}/${d.sizeBytes}`)).equals(data)).toBe(true)
  })
})

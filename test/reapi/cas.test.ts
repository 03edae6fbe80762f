import { describe, it, expect, afterAll, beforeAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { status } from '@grpc/grpc-js'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { expectRpcError, collect } from '../helpers/grpc.js'
import { unary } from '../../node/reapi/clients.js'
import { reapi } from '../../node/reapi/protos.js'
import { digestOf, EMPTY_DIGEST } from '../../node/store/digest.js'
import type { GetTreeResponse__Output } from '../../node/generated/build/bazel/remote/execution/v2/GetTreeResponse.js'

describe('ContentAddressableStorage', () => {
  let node: TestNode
  let cas: TestNode['clients']['cas']
  beforeAll(async () => { node = await startTestNode(); cas = node.clients.cas })
  afterAll(async () => { await node.stop() })

  const update = async (requests: Array<{ digest: { hash: string, sizeBytes: number }, data: Buffer, compressor?: string }>, extra = {}) =>
    await unary(cas.BatchUpdateBlobs.bind(cas), { requests, ...extra } as never)
  const findMissing = async (blobDigests: Array<{ hash: string, sizeBytes: number }>, extra = {}) =>
    await unary(cas.FindMissingBlobs.bind(cas), { blobDigests, ...extra } as never)
  const batchRead = async (digests: Array<{ hash: string, sizeBytes: number }>, extra = {}) =>
    await unary(cas.BatchReadBlobs.bind(cas), { digests, ...extra } as never)

  it('reports only absent blobs as missing, and never the empty blob', async () => {
    const present = randomBytes(64)
    await update([{ digest: digestOf(present), data: present }])
    const absent = digestOf(randomBytes(64))
    const r = await findMissing([digestOf(present), absent, EMPTY_DIGEST])
    expect(r.missingBlobDigests).toEqual([{ hash: absent.hash, sizeBytes: absent.sizeBytes }])
  })

  it('stores each valid blob of a batch and gives a per-blob status for the bad ones', async () => {
    const good = randomBytes(2000)
    const liar = randomBytes(2000)
    const r = await update([
      { digest: digestOf(good), data: good },
      { digest: { hash: digestOf(randomBytes(8)).hash, sizeBytes: 2000 }, data: liar },
      { digest: { hash: 'ABC', sizeBytes: 3 }, data: Buffer.from('abc') },
      { digest: { ...digestOf(good), sizeBytes: 1999 }, data: good }
    ])
    expect(r.responses.map((x) => status[x.status!.code])).toEqual(['OK', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT'])
    expect(r.responses[1]!.status!.message).toMatch(/hash to/)
    expect(r.responses[2]!.status!.message).toMatch(/64 lower-case hex/)
    expect(r.responses[3]!.status!.message).toMatch(/received 2000 bytes, expected 1999/)
    const missing = await findMissing([digestOf(good), digestOf(liar)])
    expect(missing.missingBlobDigests.map((d) => d.hash)).toEqual([digestOf(liar).hash])
  })

  it('refuses a batch whose total exceeds max_batch_total_size_bytes and stores none of it', async () => {
    const blobs = Array.from({ length: 5 }, () => randomBytes(900 * 1024))
    await expectRpcError(update(blobs.map((b) => ({ digest: digestOf(b), data: b }))), status.INVALID_ARGUMENT, /max_batch_total_size_bytes/)
    const missing = await findMissing(blobs.map(digestOf))
    expect(missing.missingBlobDigests).toHaveLength(5)
  })

  it('refuses a message larger than the gRPC limit with RESOURCE_EXHAUSTED', async () => {
    const big = randomBytes(6 * 1024 * 1024)
    await expectRpcError(update([{ digest: digestOf(big), data: big }]), status.RESOURCE_EXHAUSTED)
  })

  it('rejects compressed batch uploads, unknown digest functions and bad instance names', async () => {
    const b = randomBytes(10)
    const r = await update([{ digest: digestOf(b), data: b, compressor: 'ZSTD' }])
    expect(status[r.responses[0]!.status!.code]).toBe('INVALID_ARGUMENT')
    expect(r.responses[0]!.status!.message).toMatch(/compressor ZSTD/)
    await expectRpcError(findMissing([digestOf(b)], { digestFunction: 'BLAKE3' }), status.INVALID_ARGUMENT, /digest function BLAKE3/)
    await expectRpcError(findMissing([digestOf(b)], { instanceName: 'a/../b' }), status.INVALID_ARGUMENT, /instance name/)
    await expectRpcError(findMissing([digestOf(b)], { instanceName: 'main/blobs' }), status.INVALID_ARGUMENT, /reserved/)
  })

  it('rejects malformed digests: upper case, wrong length, negative size, size 0 with another hash', async () => {
    const h = digestOf(Buffer.from('x')).hash
    await expectRpcError(findMissing([{ hash: h.toUpperCase(), sizeBytes: 1 }]), status.INVALID_ARGUMENT, /not lower-case hex/)
    await expectRpcError(findMissing([{ hash: h.slice(2), sizeBytes: 1 }]), status.INVALID_ARGUMENT, /62 characters/)
    await expectRpcError(findMissing([{ hash: h, sizeBytes: -5 }]), status.INVALID_ARGUMENT, /negative/)
    await expectRpcError(findMissing([{ hash: h, sizeBytes: 0 }]), status.INVALID_ARGUMENT, /size 0/)
  })

  it('reads blobs back in a batch, with NOT_FOUND for the missing one', async () => {
    const a = randomBytes(100); const b = randomBytes(100_000)
    await update([{ digest: digestOf(a), data: a }, { digest: digestOf(b), data: b }])
    const absent = digestOf(randomBytes(7))
    const r = await batchRead([digestOf(a), absent, digestOf(b), EMPTY_DIGEST])
    expect(r.responses.map((x) => status[x.status!.code])).toEqual(['OK', 'NOT_FOUND', 'OK', 'OK'])
    expect(r.responses[0]!.data.equals(a)).toBe(true)
    expect(r.responses[2]!.data.equals(b)).toBe(true)
    expect(r.responses[3]!.data.byteLength).toBe(0)
    expect(r.responses[1]!.status!.message).toContain(absent.hash)
  })

  it('refuses a batch read larger than the batch limit', async () => {
    const d = { hash: digestOf(Buffer.from('q')).hash, sizeBytes: 5 * 1024 * 1024 }
    await expectRpcError(batchRead([d]), status.INVALID_ARGUMENT, /ByteStream/)
  })

  it('returns a directory tree breadth-first across pages, and resumes from a page token', async () => {
    const file = randomBytes(10)
    await update([{ digest: digestOf(file), data: file }])
    const leaves = Array.from({ length: 5 }, (_, i) => reapi.Directory.serialize({ files: [{ name: `f${i}`, digest: digestOf(file) }] }))
    const mid = reapi.Directory.serialize({ directories: leaves.map((l, i) => ({ name: `d${i}`, digest: digestOf(l) })) })
    const root = reapi.Directory.serialize({ directories: [{ name: 'mid', digest: digestOf(mid) }], files: [{ name: 'top', digest: digestOf(file) }] })
    await update([...leaves, mid, root].map((b) => ({ digest: digestOf(b), data: b })))

    const pages = await collect<GetTreeResponse__Output>(cas.GetTree({ rootDigest: digestOf(root), pageSize: 3 }))
    expect(pages.map((p) => p.directories.length)).toEqual([3, 3, 1])
    expect(pages.map((p) => p.nextPageToken)).toEqual(['3', '6', ''])
    const all = pages.flatMap((p) => p.directories)
    expect(all[0]!.files[0]!.name).toBe('top')
    expect(all[1]!.directories).toHaveLength(5)
    expect(all.slice(2).map((d) => d.files[0]!.name).sort()).toEqual(['f0', 'f1', 'f2', 'f3', 'f4'])

    const resumed = await collect<GetTreeResponse__Output>(cas.GetTree({ rootDigest: digestOf(root), pageSize: 3, pageToken: '6' }))
    expect(resumed.flatMap((p) => p.directories)).toHaveLength(1)
  })

  it('refuses to load a directory blob larger than 64 MiB', async () => {
    const huge = { hash: digestOf(randomBytes(8)).hash, sizeBytes: 70 * 1024 * 1024 }
    await expectRpcError(collect(cas.GetTree({ rootDigest: huge })), status.INVALID_ARGUMENT, /larger than 67108864 bytes/)
  })

  it('answers GetTree for a missing root with NOT_FOUND and a bad page token with INVALID_ARGUMENT', async () => {
    const absent = digestOf(randomBytes(9))
    await expectRpcError(collect(cas.GetTree({ rootDigest: absent })), status.NOT_FOUND, new RegExp(absent.hash))
    const dir = reapi.Directory.serialize({})
    await update([{ digest: digestOf(dir), data: dir }])
    await expectRpcError(collect(cas.GetTree({ rootDigest: digestOf(dir), pageToken: 'zzz' })), status.INVALID_ARGUMENT, /page_token/)
  })
})

import { describe, it, expect, afterEach } from 'vitest'
import { randomBytes, randomUUID } from 'node:crypto'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { expectRpcError } from '../helpers/grpc.js'
import { byteStreamUpload, createClients, unary } from '../../node/reapi/clients.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { MAX_IDLE_UPLOADS } from '../../node/reapi/constants.js'

const MiB = 1024 * 1024
/** WriteRequests carrying `data[from, to)` in 1 MiB pieces (a gRPC message is at most 5 MiB). */
const pieces = (name: string, data: Buffer, from: number, to: number, finishWrite: boolean): Array<{ resourceName: string, writeOffset: number, data: Buffer, finishWrite: boolean }> => {
  const out = []
  for (let at = from; at < to || out.length === 0; at += MiB) {
    const end = Math.min(to, at + MiB)
    out.push({ resourceName: at === from ? name : '', writeOffset: at, data: data.subarray(at, end), finishWrite: finishWrite && end === to })
  }
  return out
}
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

describe('abandoned ByteStream uploads', () => {
  let node: TestNode | undefined
  afterEach(async () => { await node?.stop(); node = undefined })

  type ByteStreamClient = TestNode['clients']['byteStream']

  /** Sends the first `sent` bytes of `data` under `name`, then half-closes (or cancels) without finish_write. */
  const abandon = async (bs: ByteStreamClient, name: string, data: Buffer, sent: number, how: 'half-close' | 'cancel'): Promise<void> => {
    if (how === 'half-close') {
      await expectRpcError(new Promise((resolve, reject) => {
        const call = bs.Write((error, response) => { if (error != null) reject(error); else resolve(response) })
        for (const m of pieces(name, data, 0, sent, false)) call.write(m)
        call.end()
      }), status.INVALID_ARGUMENT, /without finish_write/)
      return
    }
    const call = bs.Write(() => {})
    for (const m of pieces(name, data, 0, sent, false)) call.write(m)
    for (let i = 0; i < 200; i++) {
      const q = await unary(bs.QueryWriteStatus.bind(bs), { resourceName: name }).catch(() => undefined)
      if (Number(q?.committedSize ?? 0) === sent) break
      await sleep(10)
    }
    call.cancel()
    await sleep(50)
  }

  const committed = async (bs: ByteStreamClient, name: string): Promise<number | undefined> => {
    try {
      return Number((await unary(bs.QueryWriteStatus.bind(bs), { resourceName: name })).committedSize)
    } catch (error) {
      if ((error as { code: number }).code === status.NOT_FOUND) return undefined
      throw error
    }
  }

  const finish = async (bs: ByteStreamClient, name: string, data: Buffer, offset: number): Promise<number> => await new Promise((resolve, reject) => {
    const call = bs.Write((error, response) => { if (error != null) reject(error); else resolve(Number(response!.committedSize)) })
    for (const m of pieces(name, data, offset, data.byteLength, true)) call.write(m)
    call.end()
  })

  it('drops the stopped upload idle longest instead of refusing new uploads once too many are kept', async () => {
    node = await startTestNode()
    const bs = node.clients.byteStream
    const extra = 4
    const abandoned: Array<{ name: string, data: Buffer }> = []
    for (let i = 0; i < MAX_IDLE_UPLOADS + extra; i++) {
      const data = randomBytes(20_000)
      const d = digestOf(data)
      const name = `uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}`
      await abandon(bs, name, data, 100, i % 16 === 0 ? 'cancel' : 'half-close')
      abandoned.push({ name, data })
    }
    // Another client can still upload.
    const other = createClients(`unix:${node.socketPath}`)
    try {
      const data = randomBytes(50_000)
      const d = digestOf(data)
      expect(await byteStreamUpload(other.byteStream, d, data)).toBe(d.sizeBytes)
    } finally {
      other.close()
    }
    // The oldest were dropped; the newest can still be resumed.
    for (const { name } of abandoned.slice(0, extra)) expect(await committed(bs, name)).toBeUndefined()
    for (const { name } of abandoned.slice(extra, extra + 3)) expect(await committed(bs, name)).toBe(100)
    const last = abandoned.at(-1)!
    expect(await committed(bs, last.name)).toBe(100)
    expect(await finish(bs, last.name, last.data, 100)).toBe(20_000)
  })

  it('bounds the bytes stopped uploads keep to a quarter of the quota, dropping the oldest', async () => {
    node = await startTestNode({ maxSize: '64MiB' })
    const bs = node.clients.byteStream
    const names: string[] = []
    for (let i = 0; i < 3; i++) {
      const data = randomBytes(8 * MiB)
      const d = digestOf(data)
      const name = `uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}`
      await abandon(bs, name, data, 7 * MiB, 'half-close')
      names.push(name)
    }
    // 3 × 7 MiB is over the 16 MiB bound: the first one goes, its temp file too.
    expect(await committed(bs, names[0]!)).toBeUndefined()
    expect(await committed(bs, names[1]!)).toBe(7 * MiB)
    expect(await committed(bs, names[2]!)).toBe(7 * MiB)
    const tempBytes = async (): Promise<number> => {
      let total = 0
      // A dropped upload's file may vanish between the listing and its stat: it then counts 0.
      for (const f of await readdir(join(node!.dataDir, 'tmp'))) total += (await stat(join(node!.dataDir, 'tmp', f)).catch(() => ({ size: 0 }))).size
      return total
    }
    for (let i = 0; i < 100 && await tempBytes() > 16 * MiB; i++) await sleep(20)
    expect(await tempBytes()).toBeLessThanOrEqual(16 * MiB)
    expect(node.store.stats().tempBytes).toBe(14 * MiB)
  })

  it('counts the temp bytes of unfinished uploads against the quota, evicting stored blobs to make room', async () => {
    node = await startTestNode({ maxSize: '40MiB' })
    const bs = node.clients.byteStream
    const stored: Digest[] = []
    for (let i = 0; i < 3; i++) {
      const data = randomBytes(10 * MiB)
      const d = digestOf(data)
      await byteStreamUpload(bs, d, data)
      stored.push(d)
    }
    expect(node.store.stats().totalBytes).toBe(30 * MiB)
    // One upload is still streaming with 12 MiB received: 42 MiB on disk is over the quota.
    const data = randomBytes(14 * MiB)
    const d = digestOf(data)
    const name = `uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}`
    let answer: { error: unknown, committed?: number } | undefined
    const call = bs.Write((error, response) => { answer = { error, committed: response == null ? undefined : Number(response.committedSize) } })
    for (const m of pieces(name, data, 0, 12 * MiB, false)) call.write(m)
    for (let i = 0; i < 200 && (await committed(bs, name) ?? 0) < 12 * MiB; i++) await sleep(20)
    const used = (): number => node!.store.stats().totalBytes + node!.store.stats().tempBytes
    for (let i = 0; i < 200 && used() > 40 * MiB; i++) await sleep(20)
    expect(node.store.stats().tempBytes).toBe(12 * MiB)
    expect(used()).toBeLessThanOrEqual(40 * MiB)
    // One stored blob made room (which one is the LRU order's business, tested with the store).
    // The totals drop before the eviction's index batch is written: wait for the batch too.
    let kept = [] as boolean[]
    for (let i = 0; i < 200; i++) {
      kept = []
      for (const s of stored) kept.push(await node.store.has(s))
      if (kept.filter((k) => !k).length > 0) break
      await sleep(20)
    }
    expect(kept.filter((k) => !k), JSON.stringify({ kept, stats: node.store.stats() })).toHaveLength(1)
    for (const m of pieces('', data, 12 * MiB, data.byteLength, true)) call.write(m)
    call.end()
    while (answer === undefined) await sleep(20)
    expect(answer.error).toBeNull()
    expect(answer.committed).toBe(d.sizeBytes)
    expect(node.store.stats().tempBytes).toBe(0)
    expect(node.store.stats().totalBytes).toBeLessThanOrEqual(40 * MiB)
  })
})

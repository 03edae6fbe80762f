import { describe, expect, it } from 'vitest'
import { remoteHarness, startResettingProxy, type FaultyCentral } from '../helpers/remote-central.js'
import { randomBlobs, readBlob } from '../helpers/remote-blobs.js'

const MiB = 1024 * 1024
// Not a multiple of any chunk size, so a resume that rounds or restarts would show.
const CUT_AT = Math.floor(1.5 * MiB) + 123

// Large blobs (over the 1 MiB batch threshold) are streamed with ByteStream.Read from the central.
describe('an interrupted ByteStream.Read from the central', () => {
  const { cleanups, central, node } = remoteHarness({ callTimeout: '5s', clientWait: '2s' })
  const offsets = (c: FaultyCentral): number[] => c.readRequests.map((r) => r.readOffset)

  it('continues at the offset already received when the central cuts the stream with UNAVAILABLE', async () => {
    const c = await central()
    const [blob] = randomBlobs([5 * MiB])
    await c.store.put(blob!.digest, blob!.data)
    // A long client wait: the retry must follow the UNAVAILABLE at once, not a stall timeout.
    const n = await node({ endpoint: c.endpoint, clientWait: '10s' })
    c.faults.cutRead = { afterBytes: CUT_AT, how: 'unavailable' }
    const started = Date.now()
    expect((await readBlob(n.clients, blob!.digest))?.equals(blob!.data)).toBe(true)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(offsets(c)).toEqual([0, CUT_AT])
    expect(await n.store.has(blob!.digest)).toBe(true)
    expect(n.remote!.status().online).toBe(true)
  })

  it('continues at the offset already received when the central stalls mid-stream for longer than remote.clientWait', async () => {
    const c = await central()
    const [blob] = randomBlobs([4 * MiB])
    await c.store.put(blob!.digest, blob!.data)
    const n = await node({ endpoint: c.endpoint, clientWait: '500ms' })
    c.faults.cutRead = { afterBytes: CUT_AT, how: 'stall' }
    expect((await readBlob(n.clients, blob!.digest))?.equals(blob!.data)).toBe(true)
    expect(offsets(c)).toEqual([0, CUT_AT])
    expect(await n.store.has(blob!.digest)).toBe(true)
  })

  it('continues where it stopped when the connection is reset mid-stream', async () => {
    const c = await central()
    const proxy = await startResettingProxy(c.port)
    cleanups.push(async () => { await proxy.stop() })
    const [blob] = randomBlobs([6 * MiB])
    await c.store.put(blob!.digest, blob!.data)
    const n = await node({ endpoint: proxy.endpoint })
    proxy.resetAfter(2 * MiB)
    expect((await readBlob(n.clients, blob!.digest))?.equals(blob!.data)).toBe(true)
    expect(proxy.resets).toBe(1)
    const [first, second, ...rest] = offsets(c)
    expect(first).toBe(0)
    // Whatever had arrived before the reset (at most what the proxy let through) is not asked again.
    expect(second).toBeGreaterThan(0)
    expect(second).toBeLessThanOrEqual(2 * MiB)
    expect(rest).toEqual([])
    expect(await n.store.has(blob!.digest)).toBe(true)
  })

  it('reads the blob again from the start when the central refuses read_offset', async () => {
    const c = await central()
    const [blob] = randomBlobs([5 * MiB])
    await c.store.put(blob!.digest, blob!.data)
    const n = await node({ endpoint: c.endpoint, clientWait: '10s' })
    c.faults.cutRead = { afterBytes: CUT_AT, how: 'unavailable' }
    c.faults.refuseReadOffset = true
    expect((await readBlob(n.clients, blob!.digest))?.equals(blob!.data)).toBe(true)
    expect(offsets(c)).toEqual([0, CUT_AT, 0])
    expect(await n.store.has(blob!.digest)).toBe(true)
  })

  it('stores nothing when the central sends wrong bytes after the resume', async () => {
    const c = await central()
    const [blob] = randomBlobs([5 * MiB])
    await c.store.put(blob!.digest, blob!.data)
    const n = await node({ endpoint: c.endpoint })
    c.faults.cutRead = { afterBytes: CUT_AT, how: 'unavailable' }
    c.faults.corruptResumedReads = true
    expect(await readBlob(n.clients, blob!.digest)).toBeUndefined()
    expect(offsets(c)).toEqual([0, CUT_AT])
    expect(await n.store.has(blob!.digest)).toBe(false)
    // Lying is not an outage: the central stays online, and honest bytes are accepted later.
    expect(n.remote!.status().online).toBe(true)
    c.faults.corruptResumedReads = false
    expect((await readBlob(n.clients, blob!.digest))?.equals(blob!.data)).toBe(true)
  })

  it('gives up after the usual number of attempts when every stream is cut, and stores nothing', async () => {
    const c = await central()
    const [blob] = randomBlobs([3 * MiB])
    await c.store.put(blob!.digest, blob!.data)
    const n = await node({ endpoint: c.endpoint })
    c.faults.cutRead = { afterBytes: 256 * 1024, how: 'unavailable', times: 10 }
    expect(await readBlob(n.clients, blob!.digest)).toBeUndefined()
    // Four attempts (remote default), each resuming where the previous one was cut.
    expect(offsets(c)).toEqual([0, 1, 2, 3].map((i) => i * 256 * 1024))
    expect(await n.store.has(blob!.digest)).toBe(false)
  })
})

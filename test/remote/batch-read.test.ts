import { describe, expect, it } from 'vitest'
import type { TestNode } from '../helpers/node.js'
import { remoteHarness, type FaultyCentral } from '../helpers/remote-central.js'
import { randomBlobs, readBlob, type TestBlob } from '../helpers/remote-blobs.js'

// Small blobs (up to 1 MiB and the central's batch limit) are read from the central with
// BatchReadBlobs; concurrent misses share calls.
describe('coalesced BatchReadBlobs for concurrent small misses', () => {
  const { central, node } = remoteHarness({ callTimeout: '5s', clientWait: '5s' })
  const readAll = async (n: TestNode, blobs: TestBlob[]): Promise<Array<Buffer | undefined>> =>
    await Promise.all(blobs.map(async (b) => await readBlob(n.clients, b.digest)))
  const asked = (c: FaultyCentral): number => c.batchReads.reduce((sum, b) => sum + b.blobs, 0)

  it('serves many concurrent reads with far fewer BatchReadBlobs calls, each caller its own verified blob', async () => {
    const c = await central()
    const blobs = randomBlobs(Array.from({ length: 64 }, (_, i) => 100 + i * 937))
    for (const b of blobs) await c.store.put(b.digest, b.data)
    const n = await node({ endpoint: c.endpoint })
    const got = await readAll(n, blobs)
    blobs.forEach((b, i) => { expect(got[i]?.equals(b.data), `blob ${i}`).toBe(true) })
    expect(await n.store.findMissing(blobs.map((b) => b.digest))).toEqual([])
    expect(c.calls.BatchReadBlobs).toBeLessThanOrEqual(blobs.length / 4)
    expect(asked(c)).toBe(blobs.length)
    expect(Math.max(...c.batchReads.map((b) => b.blobs))).toBeGreaterThan(1)
  })

  it('sends a lone read on its own at once', async () => {
    const c = await central()
    const [blob] = randomBlobs([5000])
    await c.store.put(blob!.digest, blob!.data)
    const n = await node({ endpoint: c.endpoint })
    expect((await readBlob(n.clients, blob!.digest))?.equals(blob!.data)).toBe(true)
    expect(c.batchReads).toEqual([{ blobs: 1, bytes: 5000 }])
  })

  it('gathers misses that arrive while batches are in flight into the next batch', async () => {
    const c = await central()
    const waves = Array.from({ length: 6 }, () => randomBlobs([1000, 2000, 3000, 4000, 5000]))
    for (const b of waves.flat()) await c.store.put(b.digest, b.data)
    const n = await node({ endpoint: c.endpoint })
    // Every call takes 400 ms; a wave of reads starts every 40 ms.
    c.faults.delayMs = 400
    const reads: Array<Promise<boolean>> = []
    for (const wave of waves) {
      reads.push(...wave.map(async (b) => (await readBlob(n.clients, b.digest))?.equals(b.data) === true))
      await new Promise((resolve) => setTimeout(resolve, 40))
    }
    expect(await Promise.all(reads)).toEqual(waves.flat().map(() => true))
    // The first two waves leave at once (two calls in flight); the other four wait for a free
    // slot and leave together (a wave split across event-loop turns only moves reads earlier).
    expect(c.calls.BatchReadBlobs).toBeLessThanOrEqual(3)
    expect(c.batchReads.at(-1)!.blobs).toBeGreaterThanOrEqual(20)
    expect(asked(c)).toBe(30)
  })

  it('fails only the caller whose blob is corrupt and reports blobs the central lacks as missing', async () => {
    const c = await central()
    const present = randomBlobs(Array.from({ length: 30 }, (_, i) => 200 + i * 1500))
    const absent = randomBlobs([300, 4000, 20_000])
    for (const b of present) await c.store.put(b.digest, b.data)
    const bad = present[17]!
    c.faults.corruptHashes = [bad.digest.hash]
    const n = await node({ endpoint: c.endpoint })
    const wanted = [...present, ...absent]
    const got = await readAll(n, wanted)
    wanted.forEach((b, i) => {
      if (b === bad || absent.includes(b)) expect(got[i], `blob ${i}`).toBeUndefined()
      else expect(got[i]?.equals(b.data), `blob ${i}`).toBe(true)
    })
    expect(await n.store.findMissing(wanted.map((b) => b.digest))).toEqual([bad, ...absent].map((b) => b.digest))
    expect(c.calls.BatchReadBlobs).toBeLessThan(wanted.length / 3)
    expect(asked(c)).toBe(wanted.length)
    expect(n.remote!.status().online).toBe(true)
  })

  it("keeps every batch within the central's advertised limit", async () => {
    const limit = 256 * 1024
    const c = await central({ faults: { maxBatchBytes: limit } })
    const blobs = randomBlobs(Array.from({ length: 48 }, (_, i) => 20_000 + i * 700))
    for (const b of blobs) await c.store.put(b.digest, b.data)
    const n = await node({ endpoint: c.endpoint })
    const got = await readAll(n, blobs)
    blobs.forEach((b, i) => { expect(got[i]?.equals(b.data), `blob ${i}`).toBe(true) })
    const total = blobs.reduce((sum, b) => sum + b.data.byteLength, 0)
    for (const batch of c.batchReads) expect(batch.bytes).toBeLessThanOrEqual(limit)
    expect(c.calls.BatchReadBlobs).toBeGreaterThanOrEqual(Math.ceil(total / limit))
    expect(c.calls.BatchReadBlobs).toBeLessThan(blobs.length / 2)
  })
})

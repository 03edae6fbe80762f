import { describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTempDir } from '../helpers/node.js'
import { freePort, remoteHarness, startFaultyCentral } from '../helpers/remote-central.js'
import { findMissing, flushNode, randomBlobs, readBlob, waitFor, writeBlobs } from '../helpers/remote-blobs.js'
import { actionResultName } from '../../node/domain/names.js'

const FAST = { callTimeout: '2s', clientWait: '1s' }

describe('a misbehaving or absent central CAS', () => {
  const { cleanups, central, node } = remoteHarness(FAST)

  it('rejects corrupt bytes from the central and stores nothing', async () => {
    const c = await central()
    const [small, large] = randomBlobs([5000, 3 * 1024 * 1024])
    for (const b of [small!, large!]) await c.store.put(b.digest, b.data)
    c.faults.corruptReads = true
    const n = await node({ endpoint: c.endpoint })
    expect(await readBlob(n.clients, small!.digest)).toBeUndefined()
    expect(await readBlob(n.clients, large!.digest)).toBeUndefined()
    expect(await n.store.findMissing([small!.digest, large!.digest])).toHaveLength(2)
    expect(c.calls.BatchReadBlobs).toBeGreaterThanOrEqual(1)
    expect(c.calls.Read).toBeGreaterThanOrEqual(1)
    // Corruption is not an outage: the central stays online and good bytes are accepted later.
    expect(n.remote!.status().online).toBe(true)
    c.faults.corruptReads = false
    expect((await readBlob(n.clients, large!.digest))?.equals(large!.data)).toBe(true)
  })

  it('retries RESOURCE_EXHAUSTED with backoff and then succeeds', async () => {
    const c = await central()
    const [blob] = randomBlobs([2000])
    await c.store.put(blob!.digest, blob!.data)
    const n = await node({ endpoint: c.endpoint })
    c.faults.resourceExhausted = 2
    expect((await readBlob(n.clients, blob!.digest))?.equals(blob!.data)).toBe(true)
    expect(c.calls.BatchReadBlobs).toBe(3)
    const [up] = randomBlobs([3000])
    await writeBlobs(n.clients, [up!])
    c.faults.resourceExhausted = 2
    await flushNode(n)
    expect(await c.store.has(up!.digest)).toBe(true)
  })

  it('never blocks a local client longer than remote.clientWait when the central is slow', async () => {
    const c = await central()
    const [there, big] = randomBlobs([1000, 2 * 1024 * 1024])
    await c.store.put(there!.digest, there!.data)
    await c.store.put(big!.digest, big!.data)
    const n = await node({ endpoint: c.endpoint, clientWait: '500ms' })
    c.faults.delayMs = 4000
    let started = Date.now()
    expect(await findMissing(n.clients, [there!.digest])).toEqual([there!.digest.hash])
    expect(Date.now() - started).toBeLessThan(1500)
    started = Date.now()
    expect(await readBlob(n.clients, there!.digest)).toBeUndefined()
    expect(Date.now() - started).toBeLessThan(1500)
    started = Date.now()
    expect(await readBlob(n.clients, big!.digest)).toBeUndefined()
    expect(Date.now() - started).toBeLessThan(1500)
    started = Date.now()
    await writeBlobs(n.clients, randomBlobs([100, 200_000]))
    expect(Date.now() - started).toBeLessThan(500)
  })

  it('goes offline on refused credentials without a retry storm and recovers when the token file changes', async () => {
    const c = await central({ faults: { requireToken: 'right-token' } })
    const dir = await makeTempDir()
    cleanups.push(async () => { const { rm } = await import('node:fs/promises'); await rm(dir, { recursive: true, force: true }) })
    const tokenFile = join(dir, 'token')
    await writeFile(tokenFile, 'wrong-token\n')
    const n = await node({ endpoint: c.endpoint, tokenFile })
    const status = n.remote!.status()
    expect(status.online).toBe(false)
    expect(status.lastError).toMatch(/UNAUTHENTICATED|credentials/)
    const blobs = randomBlobs([100, 200])
    await writeBlobs(n.clients, blobs)
    const before = Object.values(c.calls).reduce((s, x) => s + x, 0)
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const during = Object.values(c.calls).reduce((s, x) => s + x, 0) - before
    // Only background probes with growing, jittered gaps: a handful in three seconds.
    expect(during).toBeLessThanOrEqual(8)
    expect(n.remote!.status().queueLength).toBe(2)
    await writeFile(tokenFile, 'right-token\n')
    await n.remote!.waitOnline(AbortSignal.timeout(15_000))
    await flushNode(n)
    expect(await c.store.findMissing(blobs.map((b) => b.digest))).toEqual([])
  })

  it('starts while the central is unreachable and drains the queue once it appears', async () => {
    const port = await freePort()
    const n = await node({ endpoint: `grpc://127.0.0.1:${port}` })
    expect(n.remote!.status()).toMatchObject({ online: false, configured: true })
    const blobs = randomBlobs([10, 5000, 100_000, 2 * 1024 * 1024])
    const started = Date.now()
    await writeBlobs(n.clients, blobs)
    expect(await findMissing(n.clients, blobs.map((b) => b.digest))).toEqual([])
    expect(await readBlob(n.clients, randomBlobs([10])[0]!.digest)).toBeUndefined()
    expect(Date.now() - started).toBeLessThan(1000)
    expect(n.remote!.status()).toMatchObject({ queueLength: blobs.length, queueBytes: blobs.reduce((s, b) => s + b.data.byteLength, 0) })
    const c = await central({ port })
    await flushNode(n)
    expect(await c.store.findMissing(blobs.map((b) => b.digest))).toEqual([])
  })

  it('keeps the queue when the central goes down mid-upload and finishes once it is back', async () => {
    const dataDir = await makeTempDir('peercas-central-')
    let c = await startFaultyCentral({ dataDir })
    const port = c.port
    // 2 MB/s: 8 MiB takes about four seconds, so the central dies mid-upload.
    const n = await node({ endpoint: c.endpoint, uploadRate: '2MB', uploadConcurrency: 2 })
    const blobs = randomBlobs([2 * 1024 * 1024, 2 * 1024 * 1024, 2 * 1024 * 1024, 2 * 1024 * 1024, 1000, 2000])
    await writeBlobs(n.clients, blobs)
    await new Promise((resolve) => setTimeout(resolve, 1200))
    await c.stop(false)
    await waitFor(() => !n.remote!.status().online, 'the node to notice the central is down', 15_000)
    expect(n.remote!.status().queueLength).toBeGreaterThan(0)
    expect(n.remote!.status().lastError).not.toBe('')
    c = await startFaultyCentral({ dataDir, port })
    cleanups.push(async () => { await c.stop() })
    await flushNode(n, 45_000)
    expect(await c.store.findMissing(blobs.map((b) => b.digest))).toEqual([])
  })

  it('keeps action results local when the central refuses updates, and still uploads their blobs', async () => {
    const c = await central({ faults: { refuseAcUpdates: true } })
    const n = await node({ endpoint: c.endpoint })
    const [out] = randomBlobs([4000])
    await writeBlobs(n.clients, [out!])
    const { writeActionResult } = await import('../helpers/remote-blobs.js')
    const action = await writeActionResult(n.clients, out!)
    await flushNode(n)
    expect(await c.store.has(out!.digest)).toBe(true)
    expect(await c.store.names.get(actionResultName('', action))).toBeUndefined()
    expect(await n.store.names.get(actionResultName('', action))).toBeDefined()
  })

  it('uploads only action results and the blobs they reference with upload: ac-only', async () => {
    const c = await central()
    const n = await node({ endpoint: c.endpoint, upload: 'ac-only' })
    const [input, out] = randomBlobs([3000, 5000])
    await writeBlobs(n.clients, [input!, out!])
    const { writeActionResult } = await import('../helpers/remote-blobs.js')
    const action = await writeActionResult(n.clients, out!)
    await flushNode(n)
    expect(await c.store.has(out!.digest)).toBe(true)
    expect(await c.store.has(input!.digest)).toBe(false)
    expect(await c.store.names.get(actionResultName('', action))).toBeDefined()
  })
})

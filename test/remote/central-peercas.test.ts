import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { findMissing, flushNode, getActionResult, randomBlobs, readBlob, writeActionResult, writeBlobs } from '../helpers/remote-blobs.js'
import { actionResultName } from '../../node/domain/names.js'

// Another peercas node on TCP acts as the central (it has an action cache).
describe('a peercas node as the central CAS', () => {
  let central: TestNode
  let a: TestNode
  let b: TestNode
  const blobs = randomBlobs([10, 1000, 70_000, 300_000, 3 * 1024 * 1024, 9 * 1024 * 1024])

  beforeAll(async () => {
    central = await startTestNode({ listen: ['127.0.0.1:0'] })
    const remote = { endpoint: `grpc://${central.tcpAddresses[0]}`, callTimeout: '5s', clientWait: '3s' }
    a = await startTestNode({ remote })
    b = await startTestNode({ remote })
  })
  afterAll(async () => {
    await b?.stop()
    await a?.stop()
    await central?.stop()
  })

  it('uploads every blob and action result written locally once flushed', async () => {
    await writeBlobs(a.clients, blobs)
    const action = await writeActionResult(a.clients, blobs[1]!)
    const reports = await flushNode(a)
    expect(reports.at(-1)).toMatchObject({ done: true, queueLength: 0, queueBytes: 0, online: true })
    expect(await central.store.findMissing(blobs.map((x) => x.digest))).toEqual([])
    expect(await central.store.names.get(actionResultName('', action))).toBeDefined()
    const status = a.remote!.status()
    expect(status).toMatchObject({ configured: true, online: true, queueLength: 0, uploadedBlobs: blobs.length })
    expect(status.endpoint).toBe(`grpc://${central.tcpAddresses[0]}`)
  })

  it('reports blobs the central holds as present to a node that lacks them', async () => {
    expect(await b.store.findMissing(blobs.map((x) => x.digest))).toHaveLength(blobs.length)
    expect(await findMissing(b.clients, blobs.map((x) => x.digest))).toEqual([])
    expect(await findMissing(b.clients, randomBlobs([5]).map((x) => x.digest))).toHaveLength(1)
  })

  it('reads missing blobs through from the central, verified and stored locally', async () => {
    for (const blob of blobs) {
      const data = await readBlob(b.clients, blob.digest)
      expect(data?.equals(blob.data), `blob of ${blob.data.byteLength} bytes`).toBe(true)
    }
    expect(await b.store.findMissing(blobs.map((x) => x.digest))).toEqual([])
    expect((await b.status()).hits?.remoteHits).toBeGreaterThanOrEqual(blobs.length)
  })

  it('falls back to the central action cache and returns the result with its blobs', async () => {
    const output = randomBlobs([2000])[0]!
    await writeBlobs(a.clients, [output])
    const action = await writeActionResult(a.clients, output)
    await flushNode(a)
    const fresh = await startTestNode({ remote: { endpoint: `grpc://${central.tcpAddresses[0]}` } })
    try {
      const result = await getActionResult(fresh.clients, action)
      expect(result?.outputFiles[0]?.digest?.hash).toBe(output.digest.hash)
      // Its blobs are on the central (a durable tier), so the result is complete; they read through.
      expect((await readBlob(fresh.clients, output.digest))?.equals(output.data)).toBe(true)
    } finally {
      await fresh.stop()
    }
  })

  it('does not return a central action result whose blobs nobody has', async () => {
    const ghost = randomBlobs([100])[0]!
    const action = await writeActionResult(central.clients, ghost)
    expect(await getActionResult(b.clients, action)).toBeUndefined()
  })
})

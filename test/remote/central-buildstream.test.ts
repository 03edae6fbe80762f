import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { unary } from '../../node/reapi/clients.js'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { hasBuildStream, startBuildStreamCentral, type BuildStreamCentral } from '../helpers/remote-central.js'
import { findMissing, flushNode, getActionResult, randomBlobs, readBlob, writeActionResult, writeBlobs } from '../helpers/remote-blobs.js'
import { actionResultName } from '../../node/domain/names.js'

const available = hasBuildStream()
if (!available) console.warn('[remote] SKIPPED: BuildStream 1.6.8 CAS server not importable by /usr/bin/python3')

// A third-party central: CAS, ByteStream and Capabilities only; a 1 MiB batch limit; no AC.
describe.skipIf(!available)('BuildStream 1.6.8 CAS server as the central', () => {
  let bst: BuildStreamCentral
  let a: TestNode
  const blobs = randomBlobs([1, 100, ...Array.from({ length: 60 }, (_, i) => 1000 + i * 997), 200_000, 900_000, 1024 * 1024 + 1, 3 * 1024 * 1024, 9 * 1024 * 1024])

  beforeAll(async () => {
    bst = await startBuildStreamCentral()
    a = await startTestNode({ remote: { endpoint: bst.endpoint, callTimeout: '10s', clientWait: '5s' } })
  })
  afterAll(async () => {
    await a?.stop()
    await bst?.stop()
  })

  it('receives every blob written through a peercas node, within its batch limit', async () => {
    await writeBlobs(a.clients, blobs)
    const action = await writeActionResult(a.clients, blobs[3]!)
    await flushNode(a, 60_000)
    const missing = await unary(bst.clients.cas.FindMissingBlobs.bind(bst.clients.cas), { instanceName: '', blobDigests: blobs.map((b) => b.digest) })
    expect(missing.missingBlobDigests).toEqual([])
    // No action cache there: the result stays on this node and the queue still empties.
    expect(await a.store.names.get(actionResultName('', action))).toBeDefined()
    expect(a.remote!.status()).toMatchObject({ online: true, queueLength: 0 })
  })

  it('serves them back to a fresh peercas node', async () => {
    const b = await startTestNode({ remote: { endpoint: bst.endpoint, callTimeout: '10s', clientWait: '5s' } })
    try {
      expect(await findMissing(b.clients, blobs.map((x) => x.digest))).toEqual([])
      for (const blob of blobs) {
        expect((await readBlob(b.clients, blob.digest))?.equals(blob.data), `blob of ${blob.data.byteLength} bytes`).toBe(true)
      }
      expect(await getActionResult(b.clients, randomBlobs([10])[0]!.digest)).toBeUndefined()
      expect(b.remote!.status().online).toBe(true)
    } finally {
      await b.stop()
    }
  })

  it('serves concurrent reads of small blobs in coalesced batches within its 1 MiB limit', async () => {
    const b = await startTestNode({ remote: { endpoint: bst.endpoint, callTimeout: '10s', clientWait: '5s' } })
    try {
      // About 2.9 MB in 62 blobs of at most 1 MiB: several batches, none over BuildStream's limit
      // (it answers a larger one with INVALID_ARGUMENT, which would leave blobs unread here).
      const small = blobs.filter((x) => x.data.byteLength <= 1024 * 1024)
      const got = await Promise.all(small.map(async (x) => await readBlob(b.clients, x.digest)))
      small.forEach((x, i) => { expect(got[i]?.equals(x.data), `blob of ${x.data.byteLength} bytes`).toBe(true) })
      expect(await b.store.findMissing(small.map((x) => x.digest))).toEqual([])
    } finally {
      await b.stop()
    }
  })
})

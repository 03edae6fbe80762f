import { afterAll, describe, expect, it } from 'vitest'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { freePort, hasBuildStream, startBuildStreamCentral, type BuildStreamCentral } from '../helpers/remote-central.js'
import { flushNode, randomBlobs, writeBlobs } from '../helpers/remote-blobs.js'
import { unary } from '../../node/reapi/clients.js'

// Upload throughput to each real central (run with PEERCAS_BENCH=1). 100 MiB of mixed sizes is
// queued while the central is unreachable, then timed from "online" to "queue empty".
const enabled = process.env.PEERCAS_BENCH === '1'
const MiB = 1024 * 1024
const sizes = [
  ...Array.from({ length: 2048 }, () => 10 * 1024), // 20 MiB of 10 KiB blobs (batches)
  ...Array.from({ length: 200 }, () => 200 * 1024), // ~39 MiB of 200 KiB blobs (batches)
  ...Array.from({ length: 10 }, () => 4 * MiB) // 40 MiB of 4 MiB blobs (ByteStream)
]

describe.skipIf(!enabled)('upload throughput to a central CAS', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterAll(async () => { for (const c of cleanups.reverse()) await c() })

  const measure = async (label: string, start: (port: number) => Promise<{ endpoint: string, check: (digests: Array<{ hash: string, sizeBytes: number }>) => Promise<number> }>): Promise<void> => {
    const port = await freePort()
    const node: TestNode = await startTestNode({ maxSize: '2GiB', remote: { endpoint: `grpc://127.0.0.1:${port}`, callTimeout: '30s' } })
    cleanups.push(async () => { await node.stop() })
    const blobs = randomBlobs(sizes)
    const bytes = blobs.reduce((s, b) => s + b.data.byteLength, 0)
    await writeBlobs(node.clients, blobs)
    expect(node.remote!.status().queueLength).toBe(blobs.length)
    const central = await start(port)
    await node.remote!.waitOnline(AbortSignal.timeout(30_000))
    const started = performance.now()
    await flushNode(node, 300_000)
    const seconds = (performance.now() - started) / 1000
    expect(await central.check(blobs.map((b) => b.digest))).toBe(0)
    console.log(`[throughput] ${label}: ${(bytes / MiB).toFixed(1)} MiB in ${blobs.length} blobs, ${seconds.toFixed(2)} s, ${(bytes / MiB / seconds).toFixed(1)} MiB/s`)
  }

  it('measures upload throughput to a peercas central', async () => {
    await measure('peercas central', async (port) => {
      const c = await startTestNode({ listen: [`127.0.0.1:${port}`], maxSize: '2GiB' })
      cleanups.push(async () => { await c.stop() })
      return { endpoint: `grpc://127.0.0.1:${port}`, check: async (digests) => (await c.store.findMissing(digests)).length }
    })
  }, 600_000)

  it.skipIf(!hasBuildStream())('measures upload throughput to the BuildStream CAS server', async () => {
    let bst: BuildStreamCentral | undefined
    await measure('BuildStream 1.6.8', async (port) => {
      bst = await startBuildStreamCentral({ port })
      cleanups.push(async () => { await bst?.stop() })
      return { endpoint: bst.endpoint, check: async (digests) => (await unary(bst!.clients.cas.FindMissingBlobs.bind(bst!.clients.cas), { blobDigests: digests })).missingBlobDigests.length }
    })
  }, 600_000)
})

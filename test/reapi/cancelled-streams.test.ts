import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { ClientReadableStream, ServerWritableStream } from '@grpc/grpc-js'
import { makeTempDir } from '../helpers/node.js'
import { waitFor } from '../helpers/wait.js'
import { LocalStore } from '../../node/store/local-store.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { TieredResolver } from '../../node/resolve/tiered-resolver.js'
import { createByteStreamService } from '../../node/reapi/bytestream-service.js'
import { createCasService } from '../../node/reapi/cas-service.js'
import { createAdminService } from '../../node/reapi/admin-service.js'
import { createCapabilitiesService } from '../../node/reapi/capabilities-service.js'
import { createExecutionService } from '../../node/reapi/execution-service.js'
import { startGrpcServer, type RunningGrpcServer, type ServiceHandlers } from '../../node/reapi/grpc-server.js'
import { createClients, type ReapiClients } from '../../node/reapi/clients.js'
import { reapi } from '../../node/reapi/protos.js'
import { silentLogger } from '../../node/log/logger.js'
import type { FlushProgress } from '../../node/generated/peercas/admin/v1/FlushProgress.js'

const MiB = 1024 * 1024

/** Open file descriptors of this process. */
const openFds = async (): Promise<number> => (await readdir('/proc/self/fd')).length

/** Waits for the first message of a server stream, then stops reading it (the server fills up). */
const firstMessageThenStall = async (call: ClientReadableStream<unknown>): Promise<void> => {
  await once(call, 'data')
  call.pause()
}

// The services run on a store and server of their own (not startNode): eviction must not spare
// recently read blobs here (recentProtectionMs 0), so a pin is the only thing that can keep one.
describe('streams whose client cancels mid-way', () => {
  let dataDir: string
  let store: LocalStore
  let server: RunningGrpcServer
  let clients: ReapiClients
  /** Server-side GetTree calls, as the handler got them. */
  const treeCalls: Array<ServerWritableStream<unknown, unknown>> = []
  /** Flush sources that are still running. */
  let flushesRunning = 0

  beforeAll(async () => {
    dataDir = await makeTempDir('peercas-cancel-')
    store = await LocalStore.open({ dataDir, maxSizeBytes: 1024 * MiB, recentProtectionMs: 0 })
    const resolver = new TieredResolver({ store })
    const cas = createCasService({ store, resolver })
    const handlers: ServiceHandlers = {
      cas: { ...cas, GetTree: (call) => { treeCalls.push(call as never); cas.GetTree(call) } },
      byteStream: createByteStreamService({ store, resolver }).handlers,
      // Not used here; grpc-js answers UNIMPLEMENTED for a service without handlers.
      actionCache: {} as ServiceHandlers['actionCache'],
      capabilities: createCapabilitiesService(),
      execution: createExecutionService(),
      admin: createAdminService({
        status: async () => { throw new Error('not used') },
        runGc: async () => { throw new Error('not used') },
        openSocket: async () => { throw new Error('not used') },
        closeSocket: async () => { throw new Error('not used') },
        // A flush that never ends on its own: progress until the call goes away.
        flush: async function * (signal): AsyncGenerator<FlushProgress> {
          flushesRunning++
          try {
            for (let i = 0; !signal.aborted; i++) yield { queueLength: i, queueBytes: i, online: true, lastError: 'x'.repeat(200), uploadedBlobs: i, uploadedBytes: i, done: false }
          } finally {
            flushesRunning--
          }
        },
        sync: async function * () {}
      })
    }
    const socketPath = join(dataDir, 'peercas.sock')
    server = await startGrpcServer({ socketPath, listen: [], handlers, logger: silentLogger })
    clients = createClients(`unix:${socketPath}`)
  })

  afterAll(async () => {
    clients?.close()
    await server?.shutdown(0)
    await store?.close()
    await rm(dataDir, { recursive: true, force: true })
  })

  it('releases the blob and its file when 5 clients cancel Reads of a 64 MiB blob mid-stream', async () => {
    const data = randomBytes(64 * MiB)
    const digest = digestOf(data)
    await store.put(digest, data)
    // Warm the connection so that the baseline counts its socket.
    await new Promise((resolve) => { clients.cas.FindMissingBlobs({ blobDigests: [] }, resolve) })
    const baseline = await openFds()

    const reads = Array.from({ length: 5 }, () => clients.byteStream.Read({ resourceName: `blobs/${digest.hash}/${digest.sizeBytes}` }))
    const ended = reads.map(async (call) => await new Promise((resolve) => { call.on('error', resolve); call.on('end', resolve) }))
    await Promise.all(reads.map(firstMessageThenStall))
    expect(await openFds()).toBeGreaterThanOrEqual(baseline + 5)
    // Let each handler fill its stream and wait for room to write.
    await new Promise((resolve) => setTimeout(resolve, 300))
    for (const call of reads) call.cancel()
    await Promise.all(ended)

    await waitFor(async () => await openFds() <= baseline, `file descriptors back to ${baseline}`, 5_000)
    await waitFor(async () => {
      await store.evict(0)
      return !(await store.has(digest))
    }, 'the blob to be evicted (no pin left)', 5_000)
  })

  it('ends a GetTree whose client cancels while the handler waits for room to write', async () => {
    // A root with 3000 subdirectories, one per page, fat enough to fill the stream.
    const children: Digest[] = []
    const childNodes = []
    for (let i = 0; i < 3000; i++) {
      const bytes = reapi.Directory.serialize({ files: [{ name: `${i}-${'f'.repeat(1000)}`, digest: { hash: 'a'.repeat(64), sizeBytes: 1 } }] })
      const d = digestOf(bytes)
      await store.put(d, bytes)
      children.push(d)
      childNodes.push({ name: `d${i}`, digest: d })
    }
    const rootBytes = reapi.Directory.serialize({ directories: childNodes })
    const root = digestOf(rootBytes)
    await store.put(root, rootBytes)

    const call = clients.cas.GetTree({ rootDigest: root, pageSize: 1 })
    const ended = new Promise((resolve) => { call.on('error', resolve); call.on('end', resolve) })
    await firstMessageThenStall(call)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const serverCall = treeCalls.at(-1)!
    expect(serverCall.listenerCount('drain'), 'the handler waits for drain').toBeGreaterThan(0)
    call.cancel()
    await ended
    await waitFor(() => serverCall.listenerCount('drain') === 0, 'the GetTree handler to stop waiting for drain', 5_000)
  })

  it('ends an admin Flush stream whose client cancels while the handler waits for room to write', async () => {
    const call = clients.admin.Flush({ timeoutSeconds: 0 })
    const ended = new Promise((resolve) => { call.on('error', resolve); call.on('end', resolve) })
    await firstMessageThenStall(call)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(flushesRunning).toBe(1)
    call.cancel()
    await ended
    await waitFor(() => flushesRunning === 0, 'the flush source to be closed', 5_000)
  })
})

import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { BenchCase, BenchContext, Figure } from '../lib/case.js'
import { MiB, round } from '../lib/stats.js'
import { randomBuffer } from '../lib/random.js'
import { loadConfig } from '../../node/config/load.js'
import { createLogger } from '../../node/log/logger.js'
import { startNode, type RunningNode } from '../../node/node.js'
import { byteStreamUpload, createClients, unary, type ReapiClients } from '../../node/reapi/clients.js'
import { digestOf, type Digest } from '../../node/store/digest.js'

const logger = createLogger('bench-upload', { level: 'error' })
/** The Debian python that has BuildStream 1.6.8 installed (its CAS server is the third-party central). */
const BUILDSTREAM_PYTHON = '/usr/bin/python3'
/** Blobs up to this size are written with BatchUpdateBlobs, larger ones with ByteStream. */
const BATCH_BLOB_BYTES = 512 * 1024

/** The queued blobs: 20 MiB of 10 KiB and ~39 MiB of 200 KiB blobs (batches), 40 MiB of 4 MiB blobs (ByteStream); about a third in --quick. */
function blobSizes (quick: boolean): number[] {
  const scale = quick ? 4 : 1
  return [
    ...Array.from({ length: 2048 / scale }, () => 10 * 1024),
    ...Array.from({ length: 200 / scale }, () => 200 * 1024),
    ...Array.from({ length: 10 / (quick ? 2 : 1) }, () => 4 * MiB)
  ]
}

async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  server.close()
  await once(server, 'close')
  return port
}

async function startInProcess (dataDir: string, flags: Record<string, unknown>): Promise<{ node: RunningNode, clients: ReapiClients, stop: () => Promise<void> }> {
  await mkdir(dataDir, { recursive: true })
  const config = loadConfig({ env: {}, flags: { dataDir, maxSize: '2GiB', ...flags, p2p: { enabled: false, mdns: false } } })
  const node = await startNode(config, { logger })
  const clients = createClients(`unix:${config.socket}`)
  return { node, clients, async stop () { clients.close(); await node.stop() } }
}

/** Writes blobs the way Bazel does: small ones in BatchUpdateBlobs of ≤ 3 MiB / 200 blobs, large ones by ByteStream. */
async function writeBlobs (clients: ReapiClients, blobs: Array<{ digest: Digest, data: Buffer }>): Promise<void> {
  let batch: typeof blobs = []
  let bytes = 0
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const response = await unary(clients.cas.BatchUpdateBlobs.bind(clients.cas), { instanceName: '', requests: batch.map((b) => ({ digest: b.digest, data: b.data })) })
    for (const r of response.responses) if (r.status?.code !== 0) throw new Error(`BatchUpdateBlobs failed: ${r.status?.message}`)
    batch = []
    bytes = 0
  }
  for (const blob of blobs.filter((b) => b.data.byteLength <= BATCH_BLOB_BYTES)) {
    if (bytes + blob.data.byteLength > 3 * MiB || batch.length >= 200) await flush()
    batch.push(blob)
    bytes += blob.data.byteLength
  }
  await flush()
  for (const blob of blobs.filter((b) => b.data.byteLength > BATCH_BLOB_BYTES)) await byteStreamUpload(clients.byteStream, blob.digest, blob.data)
}

/** A central CAS on `port` and a way to count the blobs it lacks. */
interface Central { missing(digests: Digest[]): Promise<number>, stop(): Promise<void> }

function hasBuildStream (): boolean {
  try {
    execFileSync(BUILDSTREAM_PYTHON, ['-c', 'import buildstream._artifactcache.casserver'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** BuildStream's CAS server (`--enable-push`) on `port`, once it answers GetCapabilities. */
async function startBuildStream (dir: string, port: number): Promise<Central> {
  await mkdir(join(dir, 'repo'), { recursive: true })
  const child: ChildProcess = spawn(BUILDSTREAM_PYTHON, ['-c', "import sys; from buildstream._artifactcache.casserver import server_main; sys.argv[0]='casserver'; server_main()",
    '--port', String(port), '--enable-push', '--head-room-min', '100000000', '--head-room-max', '200000000', join(dir, 'repo')], { stdio: 'ignore' })
  const clients = createClients(`127.0.0.1:${port}`)
  const stop = async (): Promise<void> => {
    clients.close()
    if (child.exitCode === null) { const exited = once(child, 'exit'); child.kill('SIGKILL'); await exited }
  }
  const deadline = Date.now() + 20_000
  for (;;) {
    try {
      await unary(clients.capabilities.GetCapabilities.bind(clients.capabilities), { instanceName: '' }, { deadline: Date.now() + 1000 })
      break
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) { await stop(); throw new Error(`BuildStream CAS server did not start: ${(error as Error).message}`) }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  return {
    async missing (digests) { return (await unary(clients.cas.FindMissingBlobs.bind(clients.cas), { instanceName: '', blobDigests: digests })).missingBlobDigests.length },
    stop
  }
}

/**
 * Queues the blobs at a node whose central is down, starts the central, and times from "online"
 * to "queue empty" (the write-behind uploader draining); returns MiB/s.
 */
async function measure (ctx: BenchContext, label: string, startCentral: (dir: string, port: number) => Promise<Central>): Promise<number> {
  const port = await freePort()
  const blobs = blobSizes(ctx.quick).map((size) => { const data = randomBuffer(size); return { digest: digestOf(data), data } })
  const bytes = blobs.reduce((sum, b) => sum + b.data.byteLength, 0)
  const node = await startInProcess(join(ctx.tmpDir, `${label}-node`), { remote: { endpoint: `grpc://127.0.0.1:${port}`, callTimeout: '30s' } })
  let central: Central | undefined
  try {
    await writeBlobs(node.clients, blobs)
    const queued = node.node.remote!.status().queueLength
    if (queued !== blobs.length) throw new Error(`${queued} blobs queued, expected ${blobs.length}`)
    central = await startCentral(join(ctx.tmpDir, `${label}-central`), port)
    await node.node.remote!.waitOnline(AbortSignal.timeout(30_000))
    const started = performance.now()
    let last: { done?: boolean } | undefined
    for await (const progress of node.node.remote!.flush(AbortSignal.timeout(300_000))) last = progress
    if (last?.done !== true) throw new Error('the upload queue did not drain')
    const seconds = (performance.now() - started) / 1000
    const missing = await central.missing(blobs.map((b) => b.digest))
    if (missing !== 0) throw new Error(`${missing} blobs missing at the central after the flush`)
    const rate = bytes / MiB / seconds
    ctx.log(`  ${label}: ${round(bytes / MiB, 1)} MiB in ${blobs.length} blobs, ${round(seconds, 2)} s, ${round(rate, 1)} MiB/s`)
    return rate
  } finally {
    await central?.stop()
    await node.stop()
  }
}

/**
 * Write-behind upload throughput to a central CAS: 100 MiB of mixed sizes (35 MiB in --quick),
 * queued while the central is unreachable, timed from "online" to "queue empty". The node and a
 * peercas central run in this process; BuildStream 1.6.8's CAS server, when installed, is the
 * third-party central.
 */
export const uploadCase: BenchCase = {
  name: 'upload',
  keys: ['upload_peercas_mib_s', 'upload_buildstream_mib_s'],
  async run (ctx): Promise<Record<string, Figure>> {
    const sizes = blobSizes(ctx.quick)
    const note = `${round(sizes.reduce((sum, size) => sum + size, 0) / MiB, 1)} MiB in ${sizes.length} blobs of 10 KiB, 200 KiB and 4 MiB queued while the central was down`
    const peercas = await measure(ctx, 'peercas', async (dir, port) => {
      const central = await startInProcess(dir, { listen: [`127.0.0.1:${port}`] })
      return { async missing (digests) { return (await central.node.store.findMissing(digests)).length }, stop: central.stop }
    })
    const buildStream = hasBuildStream() ? await measure(ctx, 'BuildStream 1.6.8', startBuildStream) : undefined
    return {
      upload_peercas_mib_s: { value: round(peercas, 1), note: `${note}; a peercas central in the same process` },
      upload_buildstream_mib_s: buildStream === undefined
        ? { value: null, note: `BuildStream's CAS server is not installed (${BUILDSTREAM_PYTHON} cannot import it)` }
        : { value: round(buildStream, 1), note: `${note}; BuildStream 1.6.8 CAS server` }
    }
  }
}

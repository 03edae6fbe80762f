import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { createClients, unary, type ReapiClients } from '../../node/reapi/clients.js'
import { reapi } from '../../node/reapi/protos.js'
import { digestOf } from '../../node/store/digest.js'
import { makeTempDir } from '../helpers/node.js'
import { runPeercas, type PeercasProcess } from '../helpers/process.js'
import { allMethods, fuzzOne, rawClient, type FuzzOutcome } from '../helpers/fuzz.js'
import { quantile, rssOf } from '../helpers/load.js'
import { writeBlobs } from '../helpers/remote-blobs.js'
import { collect, expectRpcError } from '../helpers/grpc.js'

// Mutated requests (wire bytes, field values, ByteStream.Write stream orders) to every method the
// node serves, from a deterministic seed, against a node in its own process: it never crashes,
// every call ends with a status, its memory stays bounded, and a probe client's one-digest
// FindMissingBlobs stays within a budget throughout. `npm run fuzz` sends 10 000;
// PEERCAS_FUZZ_REQUESTS and PEERCAS_FUZZ_SEED set the count and seed.
const REQUESTS = Number(process.env.PEERCAS_FUZZ_REQUESTS ?? 1500)
/** PEERCAS_FUZZ_ONLY=12,40 replays just those requests of the seed. */
const ONLY = process.env.PEERCAS_FUZZ_ONLY?.split(',').map(Number)
const SEED = Number(process.env.PEERCAS_FUZZ_SEED ?? 7)
const CONCURRENCY = 16
/** Deadline of each fuzzed call (a stalled Write stream ends here). */
const CALL_BUDGET_MS = 5000
/** The most a probe call may take while the fuzz runs (generous: a loaded 2-core CI machine). */
const PROBE_BUDGET_MS = 3000
/** The most memory the node may hold. */
const RSS_BOUND_BYTES = 1024 * 1024 * 1024

describe(`fuzzing every RPC (${REQUESTS} requests, seed ${SEED})`, () => {
  let child: PeercasProcess | undefined
  let dataDir = ''
  afterAll(async () => {
    if (child !== undefined && ((child.child.exitCode ?? 0) !== 0 || child.child.signalCode !== null)) console.log(`the node exited (${child.child.exitCode ?? child.child.signalCode}):\n${child.stderr().slice(-4000)}`)
    if (child !== undefined && child.child.exitCode === null && child.child.signalCode === null) { child.child.kill('SIGKILL'); await child.exited }
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true })
  })

  beforeAll(async () => {
    dataDir = await makeTempDir('peercas-fuzz-')
    child = runPeercas(['serve', '--data-dir', dataDir, '--no-p2p', '--no-mdns', '--no-origin-fetch', '--max-size', '512MiB', '--log-level', 'error'])
    await child.ready
  })

  // Found by this fuzz: a status message that cut a request string inside a surrogate pair made
  // grpc-js's encodeURI throw, and the exception ended the process; one quoting a 100 000-character
  // string made a trailer the client refused, and it dropped its connection with every call on it.
  it('answers requests whose strings end up cut or huge in the status message, and lives on', async () => {
    const clients = createClients(`unix:${join(dataDir, 'cas.sock')}`)
    try {
      await expectRpcError(unary(clients.cas.FindMissingBlobs.bind(clients.cas), { blobDigests: [{ hash: '🙂'.repeat(100), sizeBytes: 1 }] }), status.INVALID_ARGUMENT, /SHA-256/)
      await expectRpcError(unary(clients.cas.BatchReadBlobs.bind(clients.cas), { digests: [{ hash: 'x'.repeat(100_000), sizeBytes: 1 }] }), status.INVALID_ARGUMENT, /SHA-256/)
      await expectRpcError(collect(clients.byteStream.Read({ resourceName: 'y'.repeat(100_000) })), status.INVALID_ARGUMENT)
      // Also found here: OpenSocket without an environment answered INTERNAL.
      await expectRpcError(unary(clients.admin.OpenSocket.bind(clients.admin), { environment: '' }), status.INVALID_ARGUMENT, /environment ID/)
      expect(child!.child.exitCode).toBeNull()
    } finally {
      clients.close()
    }
  })

  it('never crashes, answers each request with a status, stays bounded, and keeps serving other clients', async () => {
    child = child!
    const target = `unix:${join(dataDir, 'cas.sock')}`
    const clients: ReapiClients = createClients(target)
    const small = Buffer.from('a small fuzz fixture')
    const large = Buffer.alloc(300_000, 7)
    const dirData = reapi.Directory.serialize({ files: [{ name: 'f', digest: digestOf(small), isExecutable: false }] })
    await writeBlobs(clients, [small, large, dirData].map((data) => ({ digest: digestOf(data), data })))
    const fixtures = { small: digestOf(small), large: digestOf(large), directory: digestOf(dirData) }
    const pid = child.child.pid!

    // The probe: another client's one-digest FindMissingBlobs, before and during the fuzz.
    const probe = async (): Promise<number> => {
      const started = performance.now()
      await unary(clients.cas.FindMissingBlobs.bind(clients.cas), { blobDigests: [fixtures.small] })
      return performance.now() - started
    }
    const baseline: number[] = []
    for (let i = 0; i < 30; i++) baseline.push(await probe())
    const rssBefore = await rssOf(pid)

    let running = true
    const probes: number[] = []
    const rss: number[] = []
    const probing = (async () => {
      while (running) {
        probes.push(await probe().catch(() => Infinity))
        rss.push(await rssOf(pid))
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()

    const methods = allMethods()
    const raw = Array.from({ length: 4 }, () => rawClient(target))
    const outcomes: FuzzOutcome[] = []
    const indices = ONLY ?? Array.from({ length: REQUESTS }, (_, i) => i)
    let next = 0
    const started = performance.now()
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (next < indices.length) {
        const index = indices[next++]!
        outcomes.push(await fuzzOne(raw[w % raw.length]!, methods, fixtures, SEED, index, CALL_BUDGET_MS))
      }
    }))
    const elapsed = performance.now() - started
    running = false
    await probing
    for (const c of raw) c.close()


    const byCode = new Map<string, number>()
    for (const o of outcomes) byCode.set(o.code < 0 ? 'NO STATUS' : status[o.code]!, (byCode.get(o.code < 0 ? 'NO STATUS' : status[o.code]!) ?? 0) + 1)
    const internal = outcomes.filter((o) => o.code === status.INTERNAL || o.code === status.UNKNOWN)
    const methodsHit = new Set(outcomes.map((o) => o.method))
    console.log(`fuzz: ${outcomes.length} requests over ${methodsHit.size}/${methods.length} methods in ${(elapsed / 1000).toFixed(1)} s; ` +
      `statuses ${JSON.stringify(Object.fromEntries([...byCode].sort((a, b) => b[1] - a[1])))}; ` +
      `probe p50 ${quantile(baseline, 0.5).toFixed(1)} ms before, p50 ${quantile(probes, 0.5).toFixed(1)} / p99 ${quantile(probes, 0.99).toFixed(1)} / max ${quantile(probes, 1).toFixed(1)} ms during (${probes.length} probes); ` +
      `node RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, max ${(Math.max(...rss) / 2 ** 20).toFixed(0)} MiB during`)
    for (const o of internal.slice(0, 10)) console.log(`  #${o.index} ${o.method}: ${status[o.code]} ${o.details}`)

    // The node is alive and still does its job.
    expect(child.child.exitCode).toBeNull()
    // (The fuzz's RunGc calls may have evicted the fixtures: write a fresh blob and read it back.)
    const fresh = Buffer.from(`written after ${REQUESTS} fuzzed requests`)
    await writeBlobs(clients, [{ digest: digestOf(fresh), data: fresh }])
    const after = await unary(clients.cas.BatchReadBlobs.bind(clients.cas), { digests: [digestOf(fresh)] })
    expect(after.responses[0]?.data.equals(fresh)).toBe(true)
    clients.close()
    expect(outcomes).toHaveLength(indices.length)
    if (ONLY === undefined) expect(methodsHit.size).toBe(methods.length)
    expect(outcomes.filter((o) => o.code < 0).map((o) => o.method)).toEqual([])
    expect(internal.map((o) => `${o.method}: ${status[o.code]} ${o.details}`).slice(0, 10)).toEqual([])
    expect(quantile(probes, 1)).toBeLessThan(PROBE_BUDGET_MS)
    expect(Math.max(...rss)).toBeLessThan(RSS_BOUND_BYTES)

    child.child.kill('SIGTERM')
    expect((await child.exited).code).toBe(0)
  }, 60_000 + REQUESTS * 60)
})

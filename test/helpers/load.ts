// A mixed-load generator for the reliability suites (crash, soak): many clients, each on its own
// channel, calling every RPC a build client uses, with a seeded random mix. It records what the
// node acknowledged (so a crash test can check it survived) and each call's latency per RPC.

import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { uploadResourceName } from '../../node/domain/resource-names.js'
import { byteStreamRead, byteStreamUpload, createClients, unary, type ReapiClients } from '../../node/reapi/clients.js'
import { reapi } from '../../node/reapi/protos.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { createAssetClients, type AssetClients } from './assets.js'

/** A small deterministic PRNG (mulberry32), so a failing mix can be replayed from its seed. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** What the node acknowledged during a load run: each item was answered OK. */
export interface Acknowledged {
  /** Blobs written with BatchUpdateBlobs or ByteStream.Write. */
  blobs: Map<string, Digest>
  /** Action digest hash → (action digest, the output blob the result names). */
  results: Map<string, { action: Digest, output: Digest }>
  /** BuildStream reference key → digest. */
  refs: Map<string, Digest>
  /** Remote Asset URI → digest pushed for it. */
  assets: Map<string, Digest>
}

/** Creates an empty {@link Acknowledged}. */
export function emptyAcknowledged (): Acknowledged {
  return { blobs: new Map(), results: new Map(), refs: new Map(), assets: new Map() }
}

/** One failed call. */
export interface LoadError { rpc: string, code?: number, message: string, /** performance.now() when it failed. */ at: number }

/** Options of {@link runMixedLoad}. */
export interface MixedLoadInit {
  /** gRPC target, e.g. `unix:/tmp/x/cas.sock`. */
  target: string
  /** Concurrent clients, each with its own channel. */
  clients: number
  /** Ends the run (the clients finish their current call and stop). */
  signal: AbortSignal
  /** Seed of the operation mix. @default 1 */
  seed?: number
  /** Shared record of acknowledged writes (the crash test keeps one across restarts). */
  acknowledged?: Acknowledged
  /** Largest ByteStream blob. @default 2 MiB */
  maxStreamBytes?: number
  /** Pause between a client's calls. @default 0 */
  pauseMs?: number
}

/** The outcome of {@link runMixedLoad}. */
export interface MixedLoadResult {
  /** Call latencies in ms per RPC. */
  latencies: Map<string, number[]>
  errors: LoadError[]
  acknowledged: Acknowledged
  calls: number
}

/** The RPCs the load calls, in the order reports list them. */
export const LOAD_RPCS = [
  'FindMissingBlobs', 'BatchUpdateBlobs', 'BatchReadBlobs', 'ByteStream.Write', 'ByteStream.Read', 'QueryWriteStatus',
  'UpdateActionResult', 'GetActionResult', 'GetCapabilities', 'Admin.GetStatus', 'PushBlob', 'FetchBlob',
  'UpdateReference', 'GetReference'
] as const

type Rpc = typeof LOAD_RPCS[number]

/** The `p`-quantile (0…1) of `values`, 0 for none. */
export function quantile (values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!
}

/** A sample of up to `n` values of a map. */
function sample<T> (random: () => number, map: Map<string, T>, n: number): T[] {
  if (map.size === 0) return []
  const values = [...map.values()]
  return Array.from({ length: Math.min(n, values.length) }, () => values[Math.floor(random() * values.length)]!)
}

/** A sample of up to `n` keys of a map. */
function sampleKeys (random: () => number, map: Map<string, unknown>, n: number): string[] {
  const keys = [...map.keys()]
  return keys.length === 0 ? [] : Array.from({ length: Math.min(n, keys.length) }, () => keys[Math.floor(random() * keys.length)]!)
}

/** Checks that `data` hashes to `digest`. */
export function matchesDigest (data: Buffer, digest: Digest): boolean {
  return data.byteLength === digest.sizeBytes && createHash('sha256').update(data).digest('hex') === digest.hash
}

/** One client's loop; throws nothing (failures go to `errors`). */
async function clientLoop (id: number, init: MixedLoadInit, out: MixedLoadResult): Promise<void> {
  const random = seededRandom((init.seed ?? 1) * 7919 + id)
  const clients: ReapiClients = createClients(init.target)
  const assets: AssetClients = createAssetClients(init.target)
  const ack = out.acknowledged
  const maxStream = init.maxStreamBytes ?? 2 * 1024 * 1024
  const weights: Array<[Rpc, number]> = [
    ['FindMissingBlobs', 14], ['BatchUpdateBlobs', 14], ['BatchReadBlobs', 10], ['ByteStream.Write', 3], ['ByteStream.Read', 6],
    ['QueryWriteStatus', 3], ['UpdateActionResult', 8], ['GetActionResult', 10], ['GetCapabilities', 3], ['Admin.GetStatus', 2],
    ['PushBlob', 4], ['FetchBlob', 4], ['UpdateReference', 4], ['GetReference', 4]
  ]
  const total = weights.reduce((s, [, w]) => s + w, 0)
  const pick = (): Rpc => {
    let r = random() * total
    for (const [rpc, w] of weights) { r -= w; if (r < 0) return rpc }
    return 'FindMissingBlobs'
  }
  const blob = (max: number): { digest: Digest, data: Buffer } => {
    const data = randomBytes(1 + Math.floor(random() * random() * max))
    return { digest: digestOf(data), data }
  }
  const fail = (rpc: string, message: string, code?: number): void => { out.errors.push({ rpc, code, message, at: performance.now() }) }
  const checkBlob = (rpc: string, data: Buffer, digest: Digest): void => {
    if (!matchesDigest(data, digest)) fail(rpc, `served ${data.byteLength} bytes that do not match ${digest.hash}/${digest.sizeBytes}`)
  }

  const call = async (rpc: Rpc): Promise<void> => {
    switch (rpc) {
      case 'FindMissingBlobs': {
        const known = sample(random, ack.blobs, 8)
        const unknown = Array.from({ length: 2 }, () => digestOf(randomBytes(16)))
        const r = await unary(clients.cas.FindMissingBlobs.bind(clients.cas), { blobDigests: [...known, ...unknown] })
        const missing = new Set(r.missingBlobDigests.map((d) => d.hash))
        for (const d of known) if (missing.has(d.hash)) fail(rpc, `an acknowledged blob ${d.hash} is missing`)
        return
      }
      case 'BatchUpdateBlobs': {
        const blobs = Array.from({ length: 1 + Math.floor(random() * 20) }, () => blob(64 * 1024))
        const r = await unary(clients.cas.BatchUpdateBlobs.bind(clients.cas), { requests: blobs })
        for (const [i, x] of r.responses.entries()) {
          if (x.status?.code === 0) ack.blobs.set(blobs[i]!.digest.hash, blobs[i]!.digest)
          else fail(rpc, `entry ${x.digest?.hash}: ${x.status?.message}`, x.status?.code)
        }
        return
      }
      case 'BatchReadBlobs': {
        const want = sample(random, ack.blobs, 10).filter((d) => d.sizeBytes <= 256 * 1024)
        if (want.length === 0) return
        const r = await unary(clients.cas.BatchReadBlobs.bind(clients.cas), { digests: want })
        for (const x of r.responses) {
          if (x.status?.code !== 0) fail(rpc, `entry ${x.digest?.hash}: ${x.status?.message}`, x.status?.code)
          else checkBlob(rpc, x.data, { hash: x.digest!.hash, sizeBytes: Number(x.digest!.sizeBytes) })
        }
        return
      }
      case 'ByteStream.Write': {
        const b = blob(maxStream)
        await byteStreamUpload(clients.byteStream, b.digest, b.data, { chunkBytes: 256 * 1024 })
        ack.blobs.set(b.digest.hash, b.digest)
        return
      }
      case 'ByteStream.Read': {
        const [d] = sample(random, ack.blobs, 1)
        if (d === undefined) return
        const parts: Buffer[] = []
        for await (const m of byteStreamRead(clients.byteStream, d)) parts.push(m.data)
        checkBlob(rpc, Buffer.concat(parts), d)
        return
      }
      case 'QueryWriteStatus': {
        const [d] = sample(random, ack.blobs, 1)
        if (d === undefined) return
        const r = await unary(clients.byteStream.QueryWriteStatus.bind(clients.byteStream), { resourceName: uploadResourceName(d) })
        if (r.complete !== true) fail(rpc, `an acknowledged blob ${d.hash} is not complete`)
        return
      }
      case 'UpdateActionResult': {
        const output = blob(4096)
        const w = await unary(clients.cas.BatchUpdateBlobs.bind(clients.cas), { requests: [output] })
        if (w.responses[0]?.status?.code !== 0) { fail('BatchUpdateBlobs', String(w.responses[0]?.status?.message)); return }
        ack.blobs.set(output.digest.hash, output.digest)
        const action = digestOf(randomBytes(32))
        await unary(clients.actionCache.UpdateActionResult.bind(clients.actionCache), {
          actionDigest: action, actionResult: { outputFiles: [{ path: 'out', digest: output.digest }], exitCode: 0 }
        })
        ack.results.set(action.hash, { action, output: output.digest })
        return
      }
      case 'GetActionResult': {
        const [entry] = sample(random, ack.results, 1)
        if (entry === undefined) return
        const r = await unary(clients.actionCache.GetActionResult.bind(clients.actionCache), { actionDigest: entry.action })
        if (r.outputFiles[0]?.digest?.hash !== entry.output.hash) fail(rpc, `result of ${entry.action.hash} names the wrong output`)
        return
      }
      case 'GetCapabilities':
        await unary(clients.capabilities.GetCapabilities.bind(clients.capabilities), {})
        return
      case 'Admin.GetStatus':
        await unary(clients.admin.GetStatus.bind(clients.admin), {})
        return
      case 'PushBlob': {
        const [d] = sample(random, ack.blobs, 1)
        if (d === undefined) return
        const uri = `https://example.invalid/${randomBytes(8).toString('hex')}`
        await unary(assets.push.PushBlob.bind(assets.push), { uris: [uri], blobDigest: d })
        ack.assets.set(uri, d)
        return
      }
      case 'FetchBlob': {
        const [uri] = sampleKeys(random, ack.assets, 1)
        if (uri === undefined) return
        const r = await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [uri] })
        if (r.blobDigest?.hash !== ack.assets.get(uri)!.hash) fail(rpc, `${uri} answered ${r.blobDigest?.hash}`)
        return
      }
      case 'UpdateReference': {
        const [d] = sample(random, ack.blobs, 1)
        if (d === undefined) return
        // A reference names a directory tree whose every part is stored: one file, a stored blob.
        const dirData = reapi.Directory.serialize({ files: [{ name: `f${d.sizeBytes}`, digest: d, isExecutable: false }] })
        const dir = digestOf(dirData)
        const w = await unary(clients.cas.BatchUpdateBlobs.bind(clients.cas), { requests: [{ digest: dir, data: dirData }] })
        if (w.responses[0]?.status?.code !== 0) { fail('BatchUpdateBlobs', String(w.responses[0]?.status?.message)); return }
        ack.blobs.set(dir.hash, dir)
        const key = `soak/${randomBytes(8).toString('hex')}`
        await unary(assets.refs.UpdateReference.bind(assets.refs), { keys: [key], digest: dir })
        ack.refs.set(key, dir)
        return
      }
      case 'GetReference': {
        const [key] = sampleKeys(random, ack.refs, 1)
        if (key === undefined) return
        const r = await unary(assets.refs.GetReference.bind(assets.refs), { key })
        if (r.digest?.hash !== ack.refs.get(key)!.hash) fail(rpc, `${key} answered ${r.digest?.hash}`)
      }
    }
  }

  try {
    while (!init.signal.aborted) {
      const rpc = pick()
      const started = performance.now()
      try {
        await call(rpc)
        if (!init.signal.aborted) {
          let list = out.latencies.get(rpc)
          if (list === undefined) out.latencies.set(rpc, list = [])
          list.push(performance.now() - started)
        }
      } catch (error) {
        const e = error as { code?: number, details?: string, message?: string }
        fail(rpc, e.details ?? e.message ?? String(error), e.code)
      }
      out.calls++
      if ((init.pauseMs ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, init.pauseMs))
    }
  } finally {
    clients.close()
    assets.close()
  }
}

/** Runs `init.clients` clients until `init.signal` aborts; resolves when all have stopped. */
export async function runMixedLoad (init: MixedLoadInit): Promise<MixedLoadResult> {
  const out: MixedLoadResult = { latencies: new Map(), errors: [], acknowledged: init.acknowledged ?? emptyAcknowledged(), calls: 0 }
  await Promise.all(Array.from({ length: init.clients }, async (_, i) => { await clientLoop(i, init, out) }))
  return out
}

/** A table of p50/p99/max per RPC in ms, for printing or docs (Markdown). */
export function latencyTable (latencies: Map<string, number[]>): string {
  const rows = ['| RPC | calls | p50 ms | p99 ms | max ms |', '|---|---:|---:|---:|---:|']
  for (const rpc of LOAD_RPCS) {
    const l = latencies.get(rpc) ?? []
    rows.push(`| ${rpc} | ${l.length} | ${quantile(l, 0.5).toFixed(1)} | ${quantile(l, 0.99).toFixed(1)} | ${quantile(l, 1).toFixed(1)} |`)
  }
  return rows.join('\n')
}

/** Resident set size of process `pid` in bytes (Linux /proc). */
export async function rssOf (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1]
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`)
  return Number(kb) * 1024
}

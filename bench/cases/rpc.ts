import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { profileArgs, type BenchCase, type Figure } from '../lib/case.js'
import { startPeercas } from '../lib/peercas-process.js'
import { startWorker } from '../lib/worker.js'
import { REPO_ROOT } from '../lib/paths.js'
import { randomBuffer } from '../lib/random.js'
import { round } from '../lib/stats.js'
import { createClients, unary } from '../../node/reapi/clients.js'
import { SERVER_OPTIONS } from '../../node/reapi/grpc-server.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import type { ActionResult } from '../../node/generated/build/bazel/remote/execution/v2/ActionResult.js'
import type { ServerCapabilities } from '../../node/generated/build/bazel/remote/execution/v2/ServerCapabilities.js'
import type { RpcSeeds } from '../workers/grpc-baseline-server.js'

/** The Debian python3-grpcio interpreter (C-core gRPC); .ci/run installs it. */
const PYTHON = '/usr/bin/python3'

/** The RPCs the client drives, by key suffix (bench/workers/rpc-client.py names them the same). */
export const RPC_NAMES = [
  'get_action_result_hit', 'get_action_result_miss', 'find_missing_1', 'find_missing_100',
  'batch_read_4k', 'read_4k', 'write_4k', 'get_capabilities'
] as const

const KEYS = [...RPC_NAMES.map((n) => `rpc_${n}_vs_bare`), 'rpc_concurrency_vs_bare']

interface ClientOutput {
  medians: Record<'peercas' | 'bare', Record<string, number[]>>
  rates: Record<'peercas' | 'bare', number[]>
}

/**
 * Per-call cost: a C-core gRPC client in another process calls each hot small RPC one at a time
 * against peercas and against a bare grpc-js server answering the same RPCs from memory, rounds
 * interleaved. Each key is the best round's p50 through peercas ÷ the bare server's; the
 * concurrency key is calls/s through peercas ÷ bare with 16 client threads (best round each).
 */
export const rpcCase: BenchCase = {
  name: 'rpc',
  keys: KEYS,
  async run (ctx): Promise<Record<string, Figure>> {
    if (!existsSync(PYTHON)) return nullAll(`${PYTHON} is missing (apt-get install python3-grpcio)`)
    const dataDir = join(ctx.tmpDir, 'node')
    await mkdir(dataDir, { recursive: true })
    const node = await startPeercas({ dataDir, execArgv: profileArgs(ctx, 'rpc-server') })
    const bare = await startWorker('grpc-baseline-server', { execArgv: profileArgs(ctx, 'rpc-bare') })
    const clients = createClients(node.target)
    try {
      // What a warm rebuild asks for: a 4 KiB output, the action result naming it, 99 more blobs.
      const blobs = Array.from({ length: 100 }, () => randomBuffer(4096))
      const digests = blobs.map((b) => digestOf(b))
      await unary(clients.cas.BatchUpdateBlobs.bind(clients.cas), { requests: blobs.map((data, i) => ({ digest: digests[i], data })) })
      const actionDigest = digestOf(randomBuffer(150))
      const missDigest = digestOf(randomBuffer(150))
      const stored: ActionResult = {
        outputFiles: [{ path: 'bazel-out/k8-fastbuild/bin/pkg/out.o', digest: digests[0], isExecutable: false }],
        exitCode: 0,
        executionMetadata: { worker: 'bench' }
      }
      await unary(clients.actionCache.UpdateActionResult.bind(clients.actionCache), { actionDigest, actionResult: stored })
      // The bare server answers with exactly what peercas answers.
      const result: ActionResult = await unary(clients.actionCache.GetActionResult.bind(clients.actionCache), { actionDigest })
      const capabilities: ServerCapabilities = await unary(clients.capabilities.GetCapabilities.bind(clients.capabilities), {})
      const seeds: RpcSeeds = {
        actionResults: [{ hash: actionDigest.hash, result }],
        blobs: blobs.map((data, i) => ({ hash: digests[i]!.hash, data })),
        capabilities
      }
      const { target: bareTarget } = await bare.call<{ target: string }>('listen', { socketPath: join(ctx.tmpDir, 'bare.sock'), options: SERVER_OPTIONS, rpc: seeds })
      const cpuBefore = await node.cpuMs()
      const out = await runClient({
        targets: { peercas: node.target, bare: bareTarget },
        acHit: wire(actionDigest),
        acMiss: wire(missDigest),
        blob: wire(digests[0]!),
        present100: digests.map(wire),
        warmup: ctx.quick ? 50 : 200,
        rounds: ctx.quick ? 5 : 9,
        callsPerRound: ctx.quick ? 100 : 200,
        threads: 16,
        concurrencySeconds: ctx.quick ? 2 : 4,
        concurrencyRounds: ctx.quick ? 3 : 5
      })
      const figures: Record<string, Figure> = {}
      const detail: Record<string, unknown> = { nodeCpuMs: (await node.cpuMs()) - cpuBefore }
      for (const name of RPC_NAMES) {
        const p = Math.min(...out.medians.peercas[name]!)
        const b = Math.min(...out.medians.bare[name]!)
        const spread = (xs: number[]): string => `${round(Math.min(...xs), 0)}–${round(Math.max(...xs), 0)}`
        ctx.log(`  ${name}: p50 peercas ${round(p, 0)} µs (rounds ${spread(out.medians.peercas[name]!)}), bare ${round(b, 0)} µs (rounds ${spread(out.medians.bare[name]!)})`)
        figures[`rpc_${name}_vs_bare`] = { value: round(p / b, 2) }
        detail[name] = { peercasUs: round(p, 0), bareUs: round(b, 0), peercasRoundsUs: out.medians.peercas[name]!.map((v) => round(v, 0)), bareRoundsUs: out.medians.bare[name]!.map((v) => round(v, 0)) }
      }
      const p = Math.max(...out.rates.peercas)
      const b = Math.max(...out.rates.bare)
      ctx.log(`  16 threads: peercas ${round(p, 0)} calls/s (rounds ${out.rates.peercas.map((v) => round(v, 0)).join(', ')}), bare ${round(b, 0)} calls/s (rounds ${out.rates.bare.map((v) => round(v, 0)).join(', ')})`)
      figures.rpc_concurrency_vs_bare = { value: round(p / b, 2) }
      detail.concurrency = { peercasCallsPerS: round(p, 0), bareCallsPerS: round(b, 0) }
      ctx.detail.rpc = detail
      return figures
    } finally {
      clients.close()
      await bare.call('close').catch(() => {})
      await bare.stop()
      await node.stop()
    }
  }
}

function nullAll (note: string): Record<string, Figure> {
  return Object.fromEntries(KEYS.map((k) => [k, { value: null, note }]))
}

function wire (d: Digest): { hash: string, sizeBytes: number } {
  return { hash: d.hash, sizeBytes: d.sizeBytes }
}

async function runClient (spec: unknown): Promise<ClientOutput> {
  const child = spawn(PYTHON, [join(REPO_ROOT, 'bench', 'workers', 'rpc-client.py')], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8') })
  child.stderr.on('data', (c: Buffer) => { stderr = (stderr + c.toString('utf8')).slice(-4096) })
  child.stdin.end(JSON.stringify(spec))
  const code = await new Promise<number | null>((resolve, reject) => { child.once('exit', resolve); child.once('error', reject) })
  if (code !== 0) throw new Error(`rpc-client.py exited with ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`)
  return JSON.parse(stdout) as ClientOutput
}

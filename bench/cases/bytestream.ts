import { createHash, randomFillSync } from 'node:crypto'
import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { CLIENT_OPTIONS } from '../../node/reapi/clients.js'
import { SERVER_OPTIONS } from '../../node/reapi/grpc-server.js'
import type { Digest } from '../../node/store/digest.js'
import { profileArgs, type BenchCase, type BenchContext, type Figure } from '../lib/case.js'
import { startPeercas } from '../lib/peercas-process.js'
import { startWorker } from '../lib/worker.js'
import { best, mbPerSecond, MiB, round } from '../lib/stats.js'

const BLOB_BYTES = 256 * MiB
const CHUNK_BYTES = 1 * MiB

/** What limits ingest, from `--profile` and `--trace-gc` of the server (see the report in docs). */
const WRITE_LIMIT = 'below goal: the server CPU profile shows ~45% of its busy time in GC — full mark-compacts "requested" by external-memory pressure every ~50 ms (mutator utilisation ~0.6), ~2.5× as many per 256 MB as the bare server — from the 1 MiB message buffers grpc-js allocates per chunk; SHA-256 is ~8%'

interface Timed { ms: number, bytes: number, digest?: Digest }

/**
 * ByteStream.Write and Read of 256 MB between two processes, against a bare grpc-js ByteStream
 * server (defaults on both ends) moving the same bytes, and against in-process SHA-256.
 * Runs are interleaved and the best of each kind is kept: noise on a shared machine only
 * ever slows a run down.
 */
export const byteStreamCase: BenchCase = {
  name: 'bytestream',
  keys: ['write_vs_grpc_baseline', 'read_vs_grpc_baseline', 'write_vs_sha256'],
  async run (ctx: BenchContext): Promise<Record<string, Figure>> {
    const runs = ctx.quick ? 2 : 4
    const sha = sha256Throughput(runs + 1)
    ctx.log(`sha256 in-process: ${round(sha, 0)} MB/s`)

    const dataDir = join(ctx.tmpDir, 'node')
    await mkdir(dataDir, { recursive: true })
    const node = await startPeercas({ dataDir, execArgv: profileArgs(ctx, 'bytestream-server') })
    const baseline = await startWorker('grpc-baseline-server')
    const tuned = await startWorker('grpc-baseline-server')
    const client = await startWorker('client', { execArgv: ctx.profileDir !== undefined ? profileArgs(ctx, 'bytestream-client') : [] })
    try {
      const { target: bareTarget } = await baseline.call<{ target: string }>('listen', { socketPath: join(ctx.tmpDir, 'bare.sock'), prefill: BLOB_BYTES })
      const { target: tunedTarget } = await tuned.call<{ target: string }>('listen', { socketPath: join(ctx.tmpDir, 'tuned.sock'), prefill: BLOB_BYTES, options: SERVER_OPTIONS })
      await client.call('prepare', { size: BLOB_BYTES })
      const bare = { target: bareTarget, flavour: 'bare' }
      const bareTuned = { target: tunedTarget, flavour: 'bare', options: CLIENT_OPTIONS }
      const ours = { target: node.target, flavour: 'peercas' }
      const results = { bareWrite: [] as number[], tunedWrite: [] as number[], write: [] as number[], bareRead: [] as number[], tunedRead: [] as number[], read: [] as number[] }
      for (let r = 0; r < runs; r++) {
        const w0 = await client.call<Timed>('write', { ...bare, chunkBytes: CHUNK_BYTES })
        const w1 = await client.call<Timed>('write', { ...bareTuned, chunkBytes: CHUNK_BYTES })
        const w2 = await client.call<Timed>('write', { ...ours, chunkBytes: CHUNK_BYTES })
        const r0 = await client.call<Timed>('read', { ...bare, digest: w2.digest })
        const r1 = await client.call<Timed>('read', { ...bareTuned, digest: w2.digest })
        const r2 = await client.call<Timed>('read', { ...ours, digest: w2.digest })
        results.bareWrite.push(mbPerSecond(w0.bytes, w0.ms))
        results.tunedWrite.push(mbPerSecond(w1.bytes, w1.ms))
        results.write.push(mbPerSecond(w2.bytes, w2.ms))
        results.bareRead.push(mbPerSecond(r0.bytes, r0.ms))
        results.tunedRead.push(mbPerSecond(r1.bytes, r1.ms))
        results.read.push(mbPerSecond(r2.bytes, r2.ms))
        ctx.log(`  run ${r + 1}/${runs}: write bare ${round(results.bareWrite.at(-1)!, 0)} / tuned ${round(results.tunedWrite.at(-1)!, 0)} / peercas ${round(results.write.at(-1)!, 0)} MB/s; ` +
          `read bare ${round(results.bareRead.at(-1)!, 0)} / tuned ${round(results.tunedRead.at(-1)!, 0)} / peercas ${round(results.read.at(-1)!, 0)} MB/s`)
      }
      const b = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, best(v)])) as Record<keyof typeof results, number>
      ctx.detail.bytestream = { sha256MBps: round(sha, 1), ...Object.fromEntries(Object.entries(b).map(([k, v]) => [`${k}MBps`, round(v, 1)])), runs, blobBytes: BLOB_BYTES, chunkBytes: CHUNK_BYTES }
      ctx.log(`ByteStream.Write 256 MB: ${round(b.write, 0)} MB/s vs bare grpc-js ${round(b.bareWrite, 0)} MB/s (tuned options ${round(b.tunedWrite, 0)}) vs sha256 ${round(sha, 0)} MB/s`)
      ctx.log(`ByteStream.Read 256 MB: ${round(b.read, 0)} MB/s vs bare grpc-js ${round(b.bareRead, 0)} MB/s (tuned options ${round(b.tunedRead, 0)})`)
      return {
        write_vs_grpc_baseline: { value: round(b.write / b.bareWrite), note: b.write / b.bareWrite < 0.8 ? WRITE_LIMIT : undefined },
        read_vs_grpc_baseline: { value: round(b.read / b.bareRead) },
        write_vs_sha256: { value: round(b.write / sha), note: b.write / sha < 0.35 ? WRITE_LIMIT : undefined }
      }
    } finally {
      await client.call('close').catch(() => {})
      await client.stop()
      await baseline.stop()
      await tuned.stop()
      await node.stop()
    }
  }
}

/** Best-of-`runs` SHA-256 throughput over 256 MB in this process, MB/s. */
function sha256Throughput (runs: number): number {
  const data = Buffer.allocUnsafe(BLOB_BYTES)
  randomFillSync(data)
  const rates: number[] = []
  for (let r = 0; r < runs; r++) {
    const started = performance.now()
    const hash = createHash('sha256')
    for (let at = 0; at < data.byteLength; at += CHUNK_BYTES) hash.update(data.subarray(at, at + CHUNK_BYTES))
    hash.digest()
    rates.push(mbPerSecond(data.byteLength, performance.now() - started))
  }
  return best(rates)
}

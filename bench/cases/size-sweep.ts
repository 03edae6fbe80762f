import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import type { BenchCase, Figure } from '../lib/case.js'
import { startPeercas } from '../lib/peercas-process.js'
import { startWorker } from '../lib/worker.js'
import type { Digest } from '../../node/store/digest.js'
import { formatSize, KiB, MiB, mbPerSecond, round } from '../lib/stats.js'
import { benchTeamKey } from '../lib/team-key.js'

/** One point of the throughput-vs-size chart. */
export interface SweepPoint { sizeBytes: number, writeMBps: number, readMBps: number, peerFetchMBps: number | null }

/**
 * Throughput of sequential ByteStream.Write and Read against blob size (4 KiB … 256 MB), one blob
 * at a time, client in another process: the chart in docs/benchmarks.md. Peer-fetch series: up to
 * 100 distinct blobs per size (at most 256 MiB) held by a `peercas serve` peer, fetched one at a
 * time by a fresh p2p node in a worker process (bench/workers/p2p-fetcher.ts: fetch protocol,
 * SHA-256, write, commit; no gRPC hop).
 */
export const sizeSweepCase: BenchCase = {
  name: 'size-sweep',
  keys: [],
  async run (ctx): Promise<Record<string, Figure>> {
    const plan: Array<[number, number]> = ctx.quick
      ? [[4 * KiB, 300], [64 * KiB, 200], [1 * MiB, 60], [16 * MiB, 4], [64 * MiB, 1]]
      : [[4 * KiB, 2000], [16 * KiB, 1000], [64 * KiB, 800], [256 * KiB, 300], [1 * MiB, 200], [4 * MiB, 50], [16 * MiB, 16], [64 * MiB, 4], [256 * MiB, 2]]
    const dataDir = join(ctx.tmpDir, 'node')
    await mkdir(dataDir, { recursive: true })
    const node = await startPeercas({ dataDir })
    const client = await startWorker('client')
    const points: SweepPoint[] = []
    try {
      for (const [size, count] of plan) {
        const { writeMs, readMs, bytes } = await client.call<{ writeMs: number, readMs: number, bytes: number }>('sweep', { target: node.target, flavour: 'peercas', size, count })
        const point: SweepPoint = { sizeBytes: size, writeMBps: round(mbPerSecond(bytes, writeMs), 1), readMBps: round(mbPerSecond(bytes, readMs), 1), peerFetchMBps: null }
        points.push(point)
        ctx.log(`  ${formatSize(size).padStart(8)} × ${count}: write ${point.writeMBps} MB/s (${round(writeMs / count, 2)} ms/blob), read ${point.readMBps} MB/s (${round(readMs / count, 2)} ms/blob)`)
      }
    } finally {
      await client.call('close').catch(() => {})
      await client.stop()
      await node.stop()
    }
    const peerDir = join(ctx.tmpDir, 'peer')
    await mkdir(peerDir, { recursive: true })
    const fetcher = await startWorker('p2p-fetcher')
    try {
      const peerPlan = plan.map(([size, count]) => [size, Math.max(1, Math.min(count, 100, Math.floor(256 * MiB / size)))] as const)
      const sizes = peerPlan.flatMap(([size, count]) => Array.from({ length: count }, () => size))
      const { digests } = await fetcher.call<{ digests: Digest[] }>('seed', { dirs: [peerDir], sizes })
      const key = await benchTeamKey(ctx.tmpDir)
      const peer = await startPeercas({ dataDir: peerDir, p2p: true, psk: key.file })
      try {
        const { ms } = await fetcher.call<{ ms: number[] }>('fetch', { peers: [peer.p2p[0]!], digests, p2p: { psk: key.file } })
        let at = 0
        for (const [i, [size, count]] of peerPlan.entries()) {
          const total = ms.slice(at, at + count).reduce((a, b) => a + b, 0)
          at += count
          points[i]!.peerFetchMBps = round(mbPerSecond(size * count, total), 1)
          ctx.log(`  ${formatSize(size).padStart(8)} × ${count}: peer fetch ${points[i]!.peerFetchMBps} MB/s (${round(total / count, 2)} ms/blob)`)
        }
      } finally {
        await peer.stop()
      }
    } finally {
      await fetcher.stop()
    }
    ctx.detail.sizeSweep = points
    return {}
  }
}

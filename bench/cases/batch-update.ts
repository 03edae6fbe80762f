import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { profileArgs, type BenchCase, type Figure } from '../lib/case.js'
import { startPeercas } from '../lib/peercas-process.js'
import { startWorker } from '../lib/worker.js'
import { best, round } from '../lib/stats.js'

/** BatchUpdateBlobs of fresh 1 KiB blobs, 1000 per request, 2 requests in flight, from another process. */
export const batchUpdateCase: BenchCase = {
  name: 'batch-update',
  keys: ['batch_update_1k_per_s'],
  async run (ctx): Promise<Record<string, Figure>> {
    const count = ctx.quick ? 40_000 : 100_000
    const runs = ctx.quick ? 2 : 3
    const dataDir = join(ctx.tmpDir, 'node')
    await mkdir(dataDir, { recursive: true })
    const node = await startPeercas({ dataDir, execArgv: profileArgs(ctx, 'batch-update-server') })
    const client = await startWorker('client')
    try {
      const rates: number[] = []
      for (let r = 0; r < runs; r++) {
        const { ms } = await client.call<{ ms: number }>('batchUpdate', { target: node.target, flavour: 'peercas', count, blobBytes: 1024, perRequest: 1000, concurrency: 2 })
        rates.push(count / (ms / 1000))
        ctx.log(`  run ${r + 1}/${runs}: ${count} blobs of 1 KiB in ${round(ms, 0)} ms = ${round(rates.at(-1)!, 0)} blobs/s`)
      }
      ctx.detail.batchUpdate = { count, runs, perRequest: 1000, concurrency: 2, rates: rates.map((x) => round(x, 0)) }
      return { batch_update_1k_per_s: { value: round(best(rates), 0) } }
    } finally {
      await client.call('close').catch(() => {})
      await client.stop()
      await node.stop()
    }
  }
}

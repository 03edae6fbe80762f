import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { profileArgs, type BenchCase, type Figure } from '../lib/case.js'
import { startPeercas } from '../lib/peercas-process.js'
import { startWorker } from '../lib/worker.js'
import { median, round } from '../lib/stats.js'

/** FindMissingBlobs of 10k digests, half of them stored, round trip from another process (median). */
export const findMissingCase: BenchCase = {
  name: 'find-missing',
  keys: ['find_missing_10k_ms'],
  async run (ctx): Promise<Record<string, Figure>> {
    const repeats = ctx.quick ? 15 : 40
    const dataDir = join(ctx.tmpDir, 'node')
    await mkdir(dataDir, { recursive: true })
    const node = await startPeercas({ dataDir, execArgv: profileArgs(ctx, 'find-missing-server') })
    const client = await startWorker('client')
    try {
      const { times } = await client.call<{ times: number[] }>('findMissing', { target: node.target, flavour: 'peercas', present: 5000, absent: 5000, repeats })
      // The first call warms up JIT and LevelDB's block cache; report the steady state.
      const steady = times.slice(2)
      ctx.log(`  10k digests, 5k present: first ${round(times[0]!, 1)} ms, median ${round(median(steady), 1)} ms, min ${round(Math.min(...steady), 1)} ms over ${steady.length} calls`)
      ctx.detail.findMissing = { firstMs: round(times[0]!, 1), medianMs: round(median(steady), 1), minMs: round(Math.min(...steady), 1), calls: steady.length }
      return { find_missing_10k_ms: { value: round(median(steady), 1) } }
    } finally {
      await client.call('close').catch(() => {})
      await client.stop()
      await node.stop()
    }
  }
}

import { randomFillSync } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalStore } from '../../node/store/local-store.js'
import { digestOf } from '../../node/store/digest.js'
import { profileArgs, type BenchCase, type Figure } from '../lib/case.js'
import { startPeercas } from '../lib/peercas-process.js'
import { median, round } from '../lib/stats.js'
import { benchTeamKey } from '../lib/team-key.js'

const BLOBS = 1_000_000
const BLOB_BYTES = 128
const BATCH = 10_000
/** Bump when the store's on-disk format changes, so a stale cached index is rebuilt. */
const FIXTURE_VERSION = 'v1'

/**
 * `serve` until ready on a data dir whose index holds 1M (inline, 128-byte) blobs after a clean
 * stop, and the node's resident memory then. The index is built once (untimed) through
 * LocalStore.putMany and kept under the OS temp dir for later runs.
 */
export const startupCase: BenchCase = {
  name: 'startup',
  keys: ['startup_1m_s', 'rss_1m_mb'],
  async run (ctx): Promise<Record<string, Figure>> {
    const fixture = join(tmpdir(), 'peercas-bench-cache', `store-1m-${BLOB_BYTES}-${FIXTURE_VERSION}`)
    if (!existsSync(fixture)) {
      const started = performance.now()
      await buildFixture(fixture)
      ctx.log(`  built the 1M-blob index in ${round((performance.now() - started) / 1000, 1)} s (not timed; cached at ${fixture})`)
    } else {
      ctx.log(`  reusing the 1M-blob index at ${fixture}`)
    }
    const runs = ctx.quick ? 2 : 5
    // One start first, not measured as such: it builds the availability summary by reading the
    // index unless the last stop saved one (a fixture just built, or last served by an older
    // version), and saves it at its clean stop, so every measured start loads it, as a restart does.
    const psk = (await benchTeamKey(ctx.tmpDir)).file
    let built = false
    const first = await startPeercas({ dataDir: fixture, p2p: true, psk, args: ['--log-level', 'debug'], onStderr: (text) => { if (text.includes('built availability summary')) built = true } })
    let firstRss: number
    let firstParts: { anon: number, file: number }
    try {
      await new Promise((resolve) => setTimeout(resolve, 5000))
      firstRss = await first.rssBytes()
      firstParts = await first.rssParts()
    } finally {
      await first.stop()
    }
    ctx.log(`  first start (summary ${built ? 'built' : 'loaded'}): RSS ${round(firstRss / 1e6, 1)} MB (anonymous ${round(firstParts.anon / 1e6, 1)}, file-backed ${round(firstParts.file / 1e6, 1)})`)
    const ready: number[] = []
    const rss: number[] = []
    const parts: Array<{ anon: number, file: number }> = []
    for (let r = 0; r < runs; r++) {
      // As a team runs it: p2p on behind a team key (on 127.0.0.1, mDNS off), so the availability
      // summary of the 1M blobs is loaded too (saved at the last clean stop).
      const node = await startPeercas({ dataDir: fixture, p2p: true, psk, execArgv: r === 0 ? profileArgs(ctx, 'startup-server') : [] })
      try {
        ready.push(node.readyMs)
        // Memory in steady state, as the first runs measured it after the background summary build (~2–3 s for 1M blobs here).
        await new Promise((resolve) => setTimeout(resolve, 5000))
        rss.push(await node.rssBytes())
        parts.push(await node.rssParts())
      } finally {
        await node.stop()
      }
      ctx.log(`  run ${r + 1}/${runs}: ready in ${round(ready.at(-1)!, 0)} ms, RSS ${round(rss.at(-1)! / 1e6, 1)} MB (anonymous ${round(parts.at(-1)!.anon / 1e6, 1)}, file-backed ${round(parts.at(-1)!.file / 1e6, 1)})`)
    }
    ctx.detail.startup = { blobs: BLOBS, blobBytes: BLOB_BYTES, firstStartBuiltSummary: built, firstStartRssMB: round(firstRss / 1e6, 1), firstStartAnonMB: round(firstParts.anon / 1e6, 1), readyMs: ready.map((x) => round(x, 0)), rssMB: rss.map((x) => round(x / 1e6, 1)), anonMB: parts.map((p) => round(p.anon / 1e6, 1)), fileMB: parts.map((p) => round(p.file / 1e6, 1)) }
    return {
      startup_1m_s: { value: round(median(ready) / 1000, 3), note: 'spawn of node bin/peercas.js serve until it prints "peercas ready"; includes Node start-up and module loading' },
      rss_1m_mb: {
        value: round(median(rss) / 1e6, 1),
        note: `p2p on, read 5 s after ready, restarted after a clean stop (the availability summary of the 1M blobs saved then is loaded); of it ${round(median(parts.map((p) => p.anon)) / 1e6, 1)} MB anonymous and ${round(median(parts.map((p) => p.file)) / 1e6, 1)} MB file-backed ` +
          '(the node binary ~52 MB, and the LevelDB tables LevelDB mmaps)' + (built
            ? `. A start that builds the summary by reading the whole index (after a crash, or a run without p2p) read ${round(firstRss / 1e6, 1)} MB here ` +
              `(${round(firstParts.file / 1e6, 1)} MB file-backed: the tables the build reads through, clean page cache the kernel reclaims under pressure)`
            : '')
      }
    }
  }
}

async function buildFixture (dir: string): Promise<void> {
  const building = `${dir}.building-${process.pid}`
  await rm(building, { recursive: true, force: true })
  await mkdir(building, { recursive: true })
  const store = await LocalStore.open({ dataDir: building, maxSizeBytes: 64 * 1024 ** 3 })
  try {
    const pool = Buffer.allocUnsafe(BATCH * BLOB_BYTES)
    for (let at = 0; at < BLOBS; at += BATCH) {
      randomFillSync(pool)
      const blobs = Array.from({ length: BATCH }, (_, i) => {
        const data = Buffer.from(pool.subarray(i * BLOB_BYTES, (i + 1) * BLOB_BYTES))
        return { digest: digestOf(data), data }
      })
      const errors = (await store.putMany(blobs)).filter((e) => e !== undefined)
      if (errors.length > 0) throw errors[0]!
    }
  } finally {
    await store.close()
  }
  await rename(building, dir)
}

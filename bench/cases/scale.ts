import { randomFillSync } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalStore } from '../../node/store/local-store.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { createClients, unary } from '../../node/reapi/clients.js'
import { profileArgs, type BenchCase, type Figure } from '../lib/case.js'
import { startPeercas } from '../lib/peercas-process.js'
import { median, round } from '../lib/stats.js'
import { randomBuffer } from '../lib/random.js'
import { benchTeamKey } from '../lib/team-key.js'

/** The scale the issue asks for. */
const TARGET_BLOBS = Number(process.env.PEERCAS_BENCH_SCALE_BLOBS ?? 10_000_000)
/** Setup (index building) stops growing the fixture after this long; the fixture is kept and grows on later runs. */
const SETUP_BUDGET_MS = Number(process.env.PEERCAS_BENCH_SCALE_SETUP_MS ?? 10 * 60_000)
const BLOB_BYTES = 128
const BATCH = 10_000
const FIXTURE_VERSION = 'v1'
/** Where the fixture is kept; another dir (with PEERCAS_BENCH_SCALE_BLOBS) iterates on a smaller index. */
const FIXTURE_DIR = process.env.PEERCAS_BENCH_SCALE_DIR ?? join(tmpdir(), 'peercas-bench-cache', `store-scale-${BLOB_BYTES}-${FIXTURE_VERSION}`)
const KEYS = [
  'scale_blobs', 'scale_startup_s', 'scale_rss_mb', 'scale_rss_after_rebuild_mb', 'scale_find_missing_10k_ms', 'scale_find_missing_10k_warm_ms',
  'scale_get_action_result_p50_ms', 'scale_summary_build_s', 'scale_read_4k_p99_during_summary_ms'
]

interface FixtureInfo { blobs: number, present: Array<{ hash: string, sizeBytes: number }>, seeded?: { actions: Array<{ hash: string, sizeBytes: number }>, small: Array<{ hash: string, sizeBytes: number }> } }

/**
 * A node with millions of (inline, 128-byte) blobs indexed: start-up, resident memory, a
 * FindMissingBlobs of 10k (half present; the first of a process, then repeated), GetActionResult
 * p50, and the availability summary. Four starts: the first two after the store was opened and
 * closed without the p2p layer, so the summary saved at the last stop no longer matches and is
 * built by reading the whole index in the background (its time, the p99 of 4 KiB ByteStream.Reads
 * made meanwhile, the resident memory after it); the last two restart after a clean stop and load
 * the saved summary (resident memory). The index is grown towards 10M blobs within a setup budget
 * and kept under the OS temp dir, so every run reports the scale it actually measured
 * (`scale_blobs`). Full run only.
 */
export const scaleCase: BenchCase = {
  name: 'scale',
  keys: KEYS,
  fullOnly: true,
  async run (ctx): Promise<Record<string, Figure>> {
    const fixture = FIXTURE_DIR
    const info = await growFixture(fixture, ctx.log)
    if (info.seeded === undefined) info.seeded = await seed(fixture, info)
    const { actions, small } = info.seeded
    const absent = Array.from({ length: 5000 }, () => digestOf(randomBuffer(64)))
    const lookups = [...info.present.slice(0, 5000), ...absent]
    const runs = 4
    const rebuilds = 2
    const ready: number[] = []
    const rss: number[] = []
    const anon: number[] = []
    const rebuiltRss: number[] = []
    const rebuiltAnon: number[] = []
    const coldFindMs: number[] = []
    const firstCallMs: number[] = []
    const findMs: number[] = []
    const acMs: number[] = []
    const summaryMs: number[] = []
    const loadMs: number[] = []
    const readsDuring: number[] = []
    for (let r = 0; r < runs; r++) {
      const rebuild = r < rebuilds
      // A store session without the p2p layer: the summary saved at the last stop is out of date.
      if (rebuild) await (await LocalStore.open({ dataDir: fixture, maxSizeBytes: 64 * 1024 ** 3 })).close()
      let summaryAt: number | undefined
      let loaded = false
      const node = await startPeercas({
        dataDir: fixture, p2p: true, psk: (await benchTeamKey(ctx.tmpDir)).file, timeoutMs: 180_000,
        args: ['--log-level', 'debug'], execArgv: r === 0 ? profileArgs(ctx, 'scale-server') : [],
        onStderr: (text) => {
          if (summaryAt !== undefined) return
          loaded = text.includes('loaded availability summary')
          if (loaded || text.includes('built availability summary')) summaryAt = performance.now()
        }
      })
      const readyAt = performance.now()
      const clients = createClients(node.target)
      try {
        ready.push(node.readyMs)
        // 4 KiB reads one after another while the summary is built in the background.
        let i = 0
        const during: number[] = []
        while (summaryAt === undefined && performance.now() - readyAt < 120_000) {
          const d = small[i++ % small.length]!
          const t = performance.now()
          for await (const _ of clients.byteStream.Read({ resourceName: `blobs/${d.hash}/${d.sizeBytes}` }) as AsyncIterable<unknown>) { /* drain */ }
          during.push(performance.now() - t)
        }
        if (summaryAt === undefined) throw new Error('the availability summary was not built within 120 s of ready')
        if (loaded === rebuild) throw new Error(rebuild ? 'the node loaded a saved summary the store no longer matches' : 'the node rebuilt the summary after a clean stop instead of loading it')
        if (rebuild) { summaryMs.push(summaryAt - readyAt); readsDuring.push(...during) } else loadMs.push(Math.max(0, summaryAt - readyAt)) // the log line may come before "ready" is read
        await new Promise((resolve) => setTimeout(resolve, 3000))
        ;(rebuild ? rebuiltRss : rss).push(await node.rssBytes())
        ;(rebuild ? rebuiltAnon : anon).push((await node.rssParts()).anon)
        // The process's first FindMissingBlobs (its code not compiled yet), of 10k digests asked nowhere else.
        const other = Array.from({ length: 10_000 }, () => digestOf(randomBuffer(64)))
        const first = performance.now()
        await unary(clients.cas.FindMissingBlobs.bind(clients.cas), { blobDigests: other })
        firstCallMs.push(performance.now() - first)
        for (let k = 0; k < 12; k++) {
          const t = performance.now()
          const res = await unary(clients.cas.FindMissingBlobs.bind(clients.cas), { blobDigests: lookups })
          // Cold: none of these digests looked up before in this process (nothing remembered, node/store/known-blobs.ts).
          if (k === 0) coldFindMs.push(performance.now() - t)
          if (k >= 2) findMs.push(performance.now() - t)
          if (res.missingBlobDigests.length !== absent.length) throw new Error(`FindMissingBlobs reported ${res.missingBlobDigests.length} missing of ${absent.length} absent`)
        }
        for (let k = 0; k < 300; k++) {
          const t = performance.now()
          await unary(clients.actionCache.GetActionResult.bind(clients.actionCache), { actionDigest: actions[k % actions.length] })
          if (k >= 50) acMs.push(performance.now() - t)
        }
      } finally {
        clients.close()
        await node.stop()
      }
      const [runRss, runAnon] = rebuild ? [rebuiltRss, rebuiltAnon] : [rss, anon]
      ctx.log(`  run ${r + 1}/${runs}: ready ${round(ready.at(-1)!, 0)} ms, summary ${rebuild ? 'built' : 'loaded'} ${round((rebuild ? summaryMs : loadMs).at(-1)! / 1000, 2)} s after ready, ` +
        `RSS ${round(runRss.at(-1)! / 1e6, 1)} MB (anonymous ${round(runAnon.at(-1)! / 1e6, 1)} MB), first FindMissing of 10k ${round(coldFindMs.at(-1)!, 1)} ms`)
    }
    const sorted = [...readsDuring].sort((a, b) => a - b)
    const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? NaN
    const loaded = median(loadMs) === 0 ? 'loaded by the time the node was ready' : `loaded at most ${round(median(loadMs), 0)} ms after ready`
    const scaleNote = info.blobs < TARGET_BLOBS ? `measured at ${info.blobs} blobs, not ${TARGET_BLOBS} (index building stopped at the ${SETUP_BUDGET_MS / 60_000}-min setup budget; the fixture grows on later runs)` : `${info.blobs} blobs`
    ctx.detail.scale = {
      blobs: info.blobs,
      readyMs: ready.map((v) => round(v, 0)),
      rssMB: rss.map((v) => round(v / 1e6, 1)),
      anonMB: anon.map((v) => round(v / 1e6, 1)),
      rebuiltRssMB: rebuiltRss.map((v) => round(v / 1e6, 1)),
      rebuiltAnonMB: rebuiltAnon.map((v) => round(v / 1e6, 1)),
      summaryMs: summaryMs.map((v) => round(v, 0)),
      summaryLoadMs: loadMs.map((v) => round(v, 0)),
      readsDuringSummary: readsDuring.length,
      coldFindMissing10kMs: coldFindMs.map((v) => round(v, 1)),
      firstFindMissing10kMs: firstCallMs.map((v) => round(v, 1)),
      findMissing10kWarmMs: round(median(findMs), 1),
      acP50Ms: round(median(acMs), 3)
    }
    return {
      scale_blobs: { value: info.blobs, note: scaleNote },
      scale_startup_s: { value: round(median(ready) / 1000, 3), note: `${scaleNote}; spawn until "peercas ready", median of ${runs}` },
      scale_rss_mb: {
        value: round(median(rss) / 1e6, 1),
        note: `${scaleNote}; p2p on, restarted after a clean stop (the availability summary saved then is ${loaded}), 3 s later; ${round(median(anon) / 1e6, 1)} MB of it anonymous`
      },
      scale_rss_after_rebuild_mb: {
        value: round(median(rebuiltRss) / 1e6, 1),
        note: `${scaleNote}; p2p on, 3 s after the summary was built by reading the whole index (a start whose saved summary does not match the store: after a crash, or a run without p2p); ${round(median(rebuiltAnon) / 1e6, 1)} MB of it anonymous, the rest file-backed (LevelDB's mmapped tables, read through by the build)`
      },
      scale_find_missing_10k_ms: {
        value: round(median(coldFindMs), 1),
        note: `${scaleNote}; cold: the first FindMissingBlobs of these 10k digests in the process (none remembered in memory), median of ${runs} starts, each after one FindMissingBlobs of 10k other (absent) digests, ` +
          `the process's first call (its code not compiled yet): ${round(median(firstCallMs), 1)} ms`
      },
      scale_find_missing_10k_warm_ms: { value: round(median(findMs), 1), note: `${scaleNote}; the same 10k again (the 5k present remembered in memory, the 5k absent ruled out by the availability summary but for its false positives, which are read from the index)` },
      scale_get_action_result_p50_ms: { value: round(median(acMs), 3), note: `${scaleNote}; grpc-js client in the harness process` },
      scale_summary_build_s: { value: round(median(summaryMs) / 1000, 2), note: `${scaleNote}; from ready to the "built availability summary" log line, when it is built by reading the whole index (median of ${rebuilds} starts); after a clean stop it is ${loaded} instead` },
      scale_read_4k_p99_during_summary_ms: { value: round(p99, 2), note: `${scaleNote}; ${readsDuring.length} sequential 4 KiB ByteStream.Reads while the summary was built` }
    }
  }
}

/** Opens (or creates) the fixture and adds blobs until the target or the setup budget. */
async function growFixture (dir: string, log: (line: string) => void): Promise<FixtureInfo> {
  const infoPath = join(dir, 'bench-fixture.json')
  await mkdir(dir, { recursive: true })
  const info: FixtureInfo = existsSync(infoPath) ? JSON.parse(await readFile(infoPath, 'utf8')) as FixtureInfo : { blobs: 0, present: [] }
  if (info.blobs >= TARGET_BLOBS) { log(`  reusing the ${info.blobs}-blob index at ${dir}`); return info }
  const started = performance.now()
  const store = await LocalStore.open({ dataDir: dir, maxSizeBytes: 64 * 1024 ** 3 })
  try {
    const pool = Buffer.allocUnsafe(BATCH * BLOB_BYTES)
    while (info.blobs < TARGET_BLOBS && performance.now() - started < SETUP_BUDGET_MS) {
      randomFillSync(pool)
      const blobs = Array.from({ length: BATCH }, (_, i) => {
        const data = Buffer.from(pool.subarray(i * BLOB_BYTES, (i + 1) * BLOB_BYTES))
        return { digest: digestOf(data), data }
      })
      const errors = (await store.putMany(blobs)).filter((e) => e !== undefined)
      if (errors.length > 0) throw errors[0]!
      if (info.present.length < 5000) info.present.push(...blobs.slice(0, 5000 - info.present.length).map((b) => ({ hash: b.digest.hash, sizeBytes: b.digest.sizeBytes })))
      info.blobs += BATCH
      if (info.blobs % 1_000_000 === 0) {
        log(`  index at ${info.blobs} blobs after ${round((performance.now() - started) / 1000, 0)} s`)
        await writeFile(infoPath, JSON.stringify(info))
      }
    }
  } finally {
    await store.close()
  }
  await writeFile(infoPath, JSON.stringify(info))
  log(`  grew the index to ${info.blobs} blobs in ${round((performance.now() - started) / 1000, 0)} s (not timed; cached at ${dir})`)
  return info
}

/** Adds 100 4 KiB blobs and 100 action results naming them, through a node, once. */
async function seed (dir: string, info: FixtureInfo): Promise<NonNullable<FixtureInfo['seeded']>> {
  const node = await startPeercas({ dataDir: dir, timeoutMs: 180_000 })
  const clients = createClients(node.target)
  try {
    const blobs = Array.from({ length: 100 }, () => randomBuffer(4096))
    const digests: Digest[] = blobs.map((b) => digestOf(b))
    await unary(clients.cas.BatchUpdateBlobs.bind(clients.cas), { requests: blobs.map((data, i) => ({ digest: digests[i], data })) })
    const actions: Digest[] = []
    for (let i = 0; i < 100; i++) {
      const actionDigest = digestOf(randomBuffer(150))
      await unary(clients.actionCache.UpdateActionResult.bind(clients.actionCache), { actionDigest, actionResult: { outputFiles: [{ path: `out/${i}.o`, digest: digests[i] }], exitCode: 0 } })
      actions.push(actionDigest)
    }
    const seeded = { actions: actions.map((d) => ({ hash: d.hash, sizeBytes: d.sizeBytes })), small: digests.map((d) => ({ hash: d.hash, sizeBytes: d.sizeBytes })) }
    info.seeded = seeded
    await writeFile(join(dir, 'bench-fixture.json'), JSON.stringify(info))
    return seeded
  } finally {
    clients.close()
    await node.stop()
  }
}

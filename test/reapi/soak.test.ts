import { afterAll, describe, expect, it } from 'vitest'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTempDir } from '../helpers/node.js'
import { REPO_ROOT, runPeercas, type PeercasProcess } from '../helpers/process.js'
import { LOAD_RPCS, latencyTable, quantile, rssOf, runMixedLoad } from '../helpers/load.js'

// 50 clients, each on its own connection, mixing every RPC against a node in its own process:
// no errors, flat memory (the last third of the run against the first), and p99 per RPC.
// `npm run soak` runs 10 minutes and writes its figures into docs/reliability.md (between the
// soak markers); PEERCAS_SOAK_SECONDS sets the length, PEERCAS_SOAK_REPORT the file.
const SECONDS = Number(process.env.PEERCAS_SOAK_SECONDS ?? 30)
const REPORT = process.env.PEERCAS_SOAK_REPORT
const CLIENTS = 50
const MIB = 2 ** 20

describe(`a soak: ${CLIENTS} clients, every RPC, ${SECONDS} s`, () => {
  let child: PeercasProcess | undefined
  let dataDir = ''
  afterAll(async () => {
    if (child !== undefined && child.child.exitCode === null && child.child.signalCode === null) { child.child.kill('SIGKILL'); await child.exited }
    if (dataDir !== '') await rm(dataDir, { recursive: true, force: true })
  })

  it('answers every call without error, with flat memory, and reports p99 per RPC', async () => {
    dataDir = await makeTempDir('peercas-soak-')
    child = runPeercas(['serve', '--data-dir', dataDir, '--no-p2p', '--no-mdns', '--no-origin-fetch', '--max-size', '20GiB', '--log-level', 'warn'])
    await child.ready
    const pid = child.child.pid!
    const controller = new AbortController()
    const rss: Array<{ at: number, bytes: number }> = []
    const started = performance.now()
    const sampler = setInterval(() => { void rssOf(pid).then((bytes) => { rss.push({ at: performance.now() - started, bytes }) }, () => {}) }, 1000)
    const timer = setTimeout(() => { controller.abort() }, SECONDS * 1000)
    const result = await runMixedLoad({ target: `unix:${join(dataDir, 'cas.sock')}`, clients: CLIENTS, signal: controller.signal, seed: 3, maxStreamBytes: 512 * 1024, pauseMs: 10 })
    clearTimeout(timer)
    clearInterval(sampler)
    const elapsed = (performance.now() - started) / 1000

    const third = Math.max(1, Math.floor(rss.length / 3))
    const mean = (xs: Array<{ bytes: number }>): number => xs.reduce((s, x) => s + x.bytes, 0) / xs.length
    const firstThird = mean(rss.slice(0, third))
    const lastThird = mean(rss.slice(-third))
    const all = [...result.latencies.values()].flat()
    const summary = `${result.calls} calls in ${elapsed.toFixed(0)} s (${(result.calls / elapsed).toFixed(0)}/s), ${result.errors.length} errors; ` +
      `all calls p50 ${quantile(all, 0.5).toFixed(1)} ms, p99 ${quantile(all, 0.99).toFixed(1)} ms; node RSS mean ${(firstThird / MIB).toFixed(0)} MiB in the first third, ` +
      `${(lastThird / MIB).toFixed(0)} MiB in the last, max ${(Math.max(...rss.map((r) => r.bytes)) / MIB).toFixed(0)} MiB; ` +
      `${result.acknowledged.blobs.size} blobs and ${result.acknowledged.results.size} action results written`
    const table = latencyTable(result.latencies)
    console.log(`soak: ${summary}\n${table}`)
    for (const e of result.errors.slice(0, 10)) console.log(`  ${e.rpc}: ${e.code ?? ''} ${e.message}`)

    if (REPORT !== undefined) {
      const file = join(REPO_ROOT, REPORT)
      const text = await readFile(file, 'utf8')
      const block = `<!-- soak:begin -->\nMeasured by \`npm run soak\` (${CLIENTS} clients, ${SECONDS} s, ${new Date().toISOString().slice(0, 10)}): ${summary}.\n\n${table}\n<!-- soak:end -->`
      await writeFile(file, text.replace(/<!-- soak:begin -->[\s\S]*<!-- soak:end -->/, block))
    }

    expect(result.errors.slice(0, 10)).toEqual([])
    for (const rpc of LOAD_RPCS) expect(result.latencies.get(rpc)?.length ?? 0, rpc).toBeGreaterThan(0)
    // Flat: the last third of the run holds no more than the first, with room for caches settling.
    expect(lastThird).toBeLessThan(firstThird * 1.5 + 64 * MIB)
    child.child.kill('SIGTERM')
    expect((await child.exited).code).toBe(0)
  }, 90_000 + SECONDS * 1000)
})

// `npm run bench [-- --quick] [-- --only a,b] [-- --profile DIR] [-- --no-docs]`
// Only a full run (no --quick, no --only) rewrites docs/benchmarks.md.
// Runs every case in bench/cases, prints one human-readable line per figure and, as the last
// line, one JSON object holding every key (null with a note when a case cannot run).
import { mkdtemp, rm, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { BenchCase, BenchContext, Figure } from './lib/case.js'
import { machineInfo } from './lib/machine.js'
import { writeBenchmarksDoc } from './lib/docs.js'
import { REPO_ROOT } from './lib/paths.js'
import { ALL_CASES } from './cases/index.js'

/** Every key the JSON line must carry, in the issue's order. */
export const REQUIRED_KEYS = [
  'write_vs_grpc_baseline', 'read_vs_grpc_baseline', 'write_vs_sha256', 'batch_update_1k_per_s',
  'find_missing_10k_ms', 'peer_fetch_vs_libp2p', 'two_peer_speedup', 'startup_1m_s', 'rss_1m_mb',
  'summary_fp_rate', 'bazel_vs_disk_cache', 'bazel_peer_vs_local',
  'lan_peer_fetch_vs_link', 'lan_two_peer_speedup', 'vpn_peer_fetch_vs_link', 'lan_text_fetch_vs_link', 'herd_8_vs_single'
] as const

/** Options of {@link runHarness}. */
export interface HarnessInit {
  quick: boolean
  /** Case names to run; the others report null. @default all */
  only?: string[]
  profileDir?: string
  /** Write docs/benchmarks.md (a full run of every case only: --quick and --only never rewrite it). @default true */
  docs?: boolean
  log?: (line: string) => void
}

/** The harness result: the JSON line's content. */
export interface HarnessResult {
  figures: Record<string, Figure>
  detail: Record<string, unknown>
  seconds: number
}

/** Runs the cases in order and collects every figure. */
export async function runHarness (init: HarnessInit): Promise<HarnessResult> {
  const log = init.log ?? ((line: string) => { process.stdout.write(line + '\n') })
  const started = performance.now()
  const figures: Record<string, Figure> = {}
  const detail: Record<string, unknown> = {}
  const root = await mkdtemp(join(tmpdir(), 'peercas-bench-'))
  if (init.profileDir !== undefined) await mkdir(init.profileDir, { recursive: true })
  try {
    for (const benchCase of ALL_CASES) {
      if (init.only !== undefined && !init.only.includes(benchCase.name)) {
        for (const key of benchCase.keys) figures[key] = { value: null, note: `case ${benchCase.name} not selected (--only)` }
        continue
      }
      // A full-run-only case still runs in --quick mode when --only names it.
      if (benchCase.fullOnly === true && init.quick && init.only === undefined) {
        for (const key of benchCase.keys) figures[key] = { value: null, note: 'measured in the full run only (too slow for --quick)' }
        log(`[${benchCase.name}] skipped in --quick mode`)
        continue
      }
      const tmpDir = await mkdtemp(join(root, `${benchCase.name}-`))
      const ctx: BenchContext = { quick: init.quick, tmpDir, profileDir: init.profileDir, detail, log: (line) => { log(`[${benchCase.name}] ${line}`) } }
      const caseStarted = performance.now()
      try {
        const result = await benchCase.run(ctx)
        for (const key of benchCase.keys) figures[key] = result[key] ?? { value: null, note: `case ${benchCase.name} did not report it` }
      } catch (error) {
        const message = error instanceof Error ? error.message.split('\n')[0]! : String(error)
        ctx.log(`FAILED: ${message}`)
        for (const key of benchCase.keys) figures[key] = { value: null, note: `case ${benchCase.name} failed: ${message}` }
      } finally {
        await rm(tmpDir, { recursive: true, force: true }).catch(() => {})
      }
      for (const key of benchCase.keys) {
        const f = figures[key]!
        ctx.log(`${key} = ${f.value === null ? 'null' : f.value}${f.note !== undefined ? `  (${f.note})` : ''}`)
      }
      ctx.log(`done in ${((performance.now() - caseStarted) / 1000).toFixed(1)} s`)
    }
  } finally {
    await rm(root, { recursive: true, force: true }).catch(() => {})
  }
  for (const key of REQUIRED_KEYS) figures[key] ??= { value: null, note: 'no case produces it' }
  const result = { figures, detail, seconds: (performance.now() - started) / 1000 }
  if (init.docs !== false && (init.quick || init.only !== undefined)) {
    log('docs/benchmarks.md left as is: only a full run of every case rewrites it')
  } else if (init.docs !== false) {
    const path = await writeBenchmarksDoc(join(REPO_ROOT, 'docs', 'benchmarks.md'), { ...result, quick: init.quick, machine: machineInfo() })
    log(`wrote ${path}`)
  }
  return result
}

/** The JSON line: every key's value, then `notes` (reasons for nulls and limits), mode and machine. */
export function jsonLine (result: HarnessResult, quick: boolean): string {
  const out: Record<string, unknown> = {}
  for (const key of REQUIRED_KEYS) out[key] = result.figures[key]?.value ?? null
  for (const [key, f] of Object.entries(result.figures)) if (!(key in out)) out[key] = f.value
  const notes: Record<string, string> = {}
  for (const [key, f] of Object.entries(result.figures)) if (f.note !== undefined) notes[key] = f.note
  out.notes = notes
  out.mode = quick ? 'quick' : 'full'
  out.seconds = Math.round(result.seconds)
  out.machine = machineInfo()
  return JSON.stringify(out)
}

async function main (): Promise<void> {
  if (Number(process.versions.node.split('.')[0]) < 22) {
    throw new Error(`the bench needs Node 22 or newer (this is ${process.version}); run it with npm run bench`)
  }
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      profile: { type: 'string' },
      'no-docs': { type: 'boolean', default: false }
    }
  })
  const quick = values.quick === true
  const result = await runHarness({
    quick,
    only: values.only?.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    profileDir: values.profile !== undefined ? resolve(values.profile) : undefined,
    docs: values['no-docs'] !== true
  })
  process.stdout.write(jsonLine(result, quick) + '\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => { process.exit(0) }, (error) => { process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`); process.exit(1) })
}

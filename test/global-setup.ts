import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Compiles node/ to dist/ once per run, so tests that spawn `peercas` run the current code.
 * Type errors are reported by `npm run typecheck` (pretest); tsc still emits here. Also makes
 * one temp dir for the run (`PEERCAS_TEST_RUN_DIR`, inherited by the test workers), removed when
 * the run ends: test workers are stopped without an 'exit' event, so what they create there is
 * cleaned up here.
 */
export default function setup (): () => void {
  const runDir = mkdtempSync(join(tmpdir(), 'peercas-test-run-'))
  process.env.PEERCAS_TEST_RUN_DIR = runDir
  const root = fileURLToPath(new URL('..', import.meta.url))
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url))
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' })
  if (result.status !== 0) process.stderr.write(`[global-setup] tsc reported problems (dist/ still emitted):\n${result.stdout}${result.stderr}`)
  return () => { rmSync(runDir, { recursive: true, force: true }) }
}

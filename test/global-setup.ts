import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Compiles node/ to dist/ once per run, so tests that spawn `peercas` run the current code.
 * Type errors are reported by `npm run typecheck` (pretest); tsc still emits here.
 */
export default function setup (): void {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url))
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' })
  if (result.status !== 0) process.stderr.write(`[global-setup] tsc reported problems (dist/ still emitted):\n${result.stdout}${result.stderr}`)
}

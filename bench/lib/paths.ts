import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root (the directory holding package.json), found from this file. */
export const REPO_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'peercas.js'))) return dir
    dir = dirname(dir)
  }
  throw new Error('cannot find the peercas repository root from bench/')
})()

/** Compiled bench directory (dist/bench), where worker scripts live. */
export const BENCH_DIST_DIR = join(REPO_ROOT, 'dist', 'bench')

/** Path of a compiled worker script by name, e.g. `client` → dist/bench/workers/client.js. */
export function workerScript (name: string): string {
  return join(BENCH_DIST_DIR, 'workers', `${name}.js`)
}

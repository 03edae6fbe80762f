import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The `protos/` directory of this installation, found by walking up from this module so it works
 * from the sources (node/) and from the compiled copy (dist/node/).
 */
export const PROTOS_DIR: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'protos')
    if (existsSync(join(candidate, 'build/bazel/remote/execution/v2/remote_execution.proto'))) return candidate
    dir = dirname(dir)
  }
  throw new Error('cannot find the protos/ directory next to the peercas sources')
})()

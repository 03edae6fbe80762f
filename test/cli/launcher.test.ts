import { describe, it, expect } from 'vitest'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join, dirname } from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from '../helpers/process.js'
import { PEERCAS_NODE_FLAGS } from '../../node/cli/runtime-flags.js'

describe('bin/peercas.js', () => {
  it('carries PEERCAS_NODE_FLAGS in its shebang, so `npx peercas` runs with the flags the tests and benchmarks use', async () => {
    const firstLine = (await readFile(join(REPO_ROOT, 'bin', 'peercas.js'), 'utf8')).split('\n')[0]
    expect(firstLine).toBe(`#!/usr/bin/env -S node ${PEERCAS_NODE_FLAGS.join(' ')}`)
  })

  it('runs as an executable through its shebang on the Node 22 npm installed', async () => {
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` }
    const { stdout } = await promisify(execFile)(join(REPO_ROOT, 'bin', 'peercas.js'), ['--help'], { env })
    expect(stdout).toMatch(/^Usage: peercas <command>/)
  })
})

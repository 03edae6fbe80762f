import { afterEach, describe, expect, it } from 'vitest'
import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTempDir } from '../helpers/node.js'
import { peercas, runPeercas, type PeercasProcess } from '../helpers/process.js'
import { readTeamKey } from '../../node/p2p/team-key.js'

const running: PeercasProcess[] = []
const dirs: string[] = []

async function tempDir (): Promise<string> {
  const d = await makeTempDir('peercas-cli-trust-')
  dirs.push(d)
  return d
}

afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill('SIGKILL'); await p.exited }
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

describe('peercas gen-psk', () => {
  it('writes a team key with mode 0600 that a node can read, in a new directory', async () => {
    const file = join(await tempDir(), 'config', 'team.psk')
    const run = await peercas(['gen-psk', file])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`--psk ${file}`)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    const key = await readTeamKey(file)
    expect(key.readableByOthers).toBe(false)
    expect(await readFile(file, 'utf8')).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
  })

  it('refuses to overwrite an existing file unless --force, and then makes it private', async () => {
    const file = join(await tempDir(), 'team.psk')
    await writeFile(file, 'precious\n', { mode: 0o644 })
    const refused = await peercas(['gen-psk', file])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/already exists; pass --force/)
    expect(await readFile(file, 'utf8')).toBe('precious\n')
    const forced = await peercas(['gen-psk', file, '--force'])
    expect(forced.code, forced.stderr).toBe(0)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    await readTeamKey(file)
  })

  it('without a file is a usage error', async () => {
    const run = await peercas(['gen-psk'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/usage: peercas gen-psk FILE/)
  })
})

describe('peercas serve and the team key', () => {
  it('without a team key runs with p2p off and says how to turn it on, in the ready output and in status', async () => {
    const dir = await tempDir()
    const node = runPeercas(['serve', '--data-dir', dir, '--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--log-level', 'warn'])
    running.push(node)
    await node.ready
    await expect.poll(() => node.stdout()).toMatch(/p2p is off: no team key; run `npx peercas gen-psk/)
    const status = await peercas(['status', '--data-dir', dir])
    expect(status.stdout).toMatch(/p2p: +off .*gen-psk.*--psk.*p2p\.open: true/)
    const info = JSON.parse(await readFile(join(dir, 'node.json'), 'utf8')) as { p2p?: string[] }
    expect(info.p2p).toBeUndefined()
  })

  it('with a team key joins the network and does not print the hint', async () => {
    const dir = await tempDir()
    const file = join(dir, 'team.psk')
    expect((await peercas(['gen-psk', file])).code).toBe(0)
    const node = runPeercas(['serve', '--data-dir', join(dir, 'data'), '--psk', file, '--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--log-level', 'warn'])
    running.push(node)
    await node.ready
    const info = JSON.parse(await readFile(join(dir, 'data', 'node.json'), 'utf8')) as { p2p?: string[] }
    expect(info.p2p?.[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    expect(node.stdout()).not.toMatch(/p2p is off/)
  })

  it('exits non-zero before starting anything when the team key file is malformed, naming it', async () => {
    const dir = await tempDir()
    const file = join(dir, 'team.psk')
    await writeFile(file, '/key/swarm/psk/1.0.0/\n/base16/\nabcd\n')
    const run = await peercas(['serve', '--data-dir', join(dir, 'data'), '--psk', file, '--p2p-listen', '/ip4/127.0.0.1/tcp/0'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`the team key file ${file} has a key of 2 bytes, not 32`)
    expect(run.stdout).not.toContain('peercas ready')
    await expect(stat(join(dir, 'data'))).rejects.toThrow()
  })

  it('with --p2p-open runs an open network and warns', async () => {
    const dir = await tempDir()
    const node = runPeercas(['serve', '--data-dir', dir, '--p2p-open', '--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--log-level', 'warn'])
    running.push(node)
    await node.ready
    expect(node.stderr()).toMatch(/p2p is open .*any host that reaches the p2p port can read this cache/)
    const info = JSON.parse(await readFile(join(dir, 'node.json'), 'utf8')) as { p2p?: string[] }
    expect(info.p2p).toHaveLength(1)
  })
})

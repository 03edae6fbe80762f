// End-to-end: BuildStream 1.6.8 (Debian's `buildstream`) uses a peercas node as its artifact
// cache. `bst build` of import elements pushes the artifacts to node A; a fresh cache (new
// XDG_CACHE_HOME) pulls them through node B, a peer that trusts A, and `bst checkout` gives
// identical files; through node C, a peer that does not trust A, there is nothing to pull.
//
// What BuildStream 1.6.8 calls (measured): GetCapabilities, BatchReadBlobs and BatchUpdateBlobs
// (empty, to probe), Remote Asset FetchDirectory/PushDirectory (an empty request, expecting
// INVALID_ARGUMENT, to probe; then `urn:fdc:buildstream.build:2020:v1:<ref>` for each artifact),
// FindMissingBlobs and ByteStream Read/Write. It uses buildstream.v2.ReferenceStorage only with
// servers without the Remote Asset API; peercas answers both from the same refs
// (test/reapi/assets.test.ts covers ReferenceStorage directly).

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestNode } from '../helpers/node.js'
import { startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import type { P2pService } from '../../node/p2p/index.js'

const BST = process.env.PEERCAS_BST ?? '/usr/bin/bst'
const PYTHON = '/usr/bin/python3'
const available = existsSync(BST) && existsSync(PYTHON)
if (!available) console.warn(`[buildstream e2e] SKIPPED: ${BST} not found (install Debian's buildstream)`)

interface BstResult { code: number | null, output: string }

/** Runs `bst` with its own cache, config and data dirs (nothing from the user's home). */
async function bst (projectDir: string, cacheHome: string, args: string[]): Promise<BstResult> {
  const home = path.dirname(cacheHome)
  const env = {
    PATH: '/usr/bin:/bin',
    HOME: home,
    XDG_CACHE_HOME: cacheHome,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_DATA_HOME: path.join(home, 'data'),
    LANG: 'C.UTF-8',
    no_proxy: '127.0.0.1,localhost',
    NO_PROXY: '127.0.0.1,localhost'
  }
  return await new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [BST, '--no-interactive', '--config', path.join(projectDir, 'user.conf'), ...args], { cwd: projectDir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => out.push(b))
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('error', reject)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output: Buffer.concat(out).toString('utf8') }) })
  })
}

/** Every regular file under `dir`: relative path → contents (and whether it is executable). */
async function snapshot (dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name)
      if (entry.isDirectory()) await walk(full)
      else if (entry.isFile()) {
        const mode = (await stat(full)).mode & 0o111 ? 'x' : '-'
        out.set(path.relative(dir, full), `${mode} ${(await readFile(full)).toString('base64')}`)
      }
    }
  }
  await walk(dir)
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)))
}

describe.skipIf(!available)(`BuildStream 1.6.8 with a peercas node as its artifact cache${available ? '' : ` (skipped: ${BST} missing)`}`, () => {
  let node: TestNode & { p2p: P2pService }
  let root: string
  let project: string

  beforeAll(async () => {
    node = await startP2pTestNode({ flags: { listen: ['127.0.0.1:0'] } })
    root = await mkdtemp(path.join(tmpdir(), 'peercas-bst-'))
    project = path.join(root, 'project')
    await mkdir(path.join(project, 'elements'), { recursive: true })
    await mkdir(path.join(project, 'files', 'hello', 'sub'), { recursive: true })
    await mkdir(path.join(project, 'files', 'data'), { recursive: true })
    await writeFile(path.join(project, 'files', 'hello', 'hello.txt'), 'hello from an import element\n')
    await writeFile(path.join(project, 'files', 'hello', 'empty'), '')
    await writeFile(path.join(project, 'files', 'hello', 'sub', 'run.sh'), '#!/bin/sh\necho hi\n')
    await chmod(path.join(project, 'files', 'hello', 'sub', 'run.sh'), 0o755)
    // Over 1 MiB: travels by ByteStream, not in a batch.
    await writeFile(path.join(project, 'files', 'data', 'big.bin'), randomBytes(3 * 1024 * 1024 + 17))
    await writeFile(path.join(project, 'project.conf'), 'name: peercas-e2e\nelement-path: elements\n')
    for (const name of ['hello', 'data']) {
      await writeFile(path.join(project, 'elements', `${name}.bst`), `kind: import\nsources:\n- kind: local\n  path: files/${name}\n`)
    }
    await writeFile(path.join(project, 'user.conf'), `artifacts:\n  url: http://${node.tcpAddresses[0]!}\n  push: true\n`)
  }, 60_000)

  afterAll(async () => {
    await node?.stop()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  }, 60_000)

  /** A peer of A on loopback TCP, trusting A or not; `project-NAME` points BuildStream at it. */
  async function peerProject (name: string, trustA: boolean): Promise<{ peer: TestNode & { p2p: P2pService }, dir: string }> {
    const peer = await startP2pTestNode({ peers: [node.p2p.addresses[0]!], trust: trustA ? [node.p2p.peerId] : [], flags: { listen: ['127.0.0.1:0'] } })
    await waitFor(() => peer.p2p.peers().some((p) => p.peerId === node.p2p.peerId && p.connected === true), `${name} connected to A`, 15_000)
    const dir = path.join(root, `project-${name}`)
    await mkdir(dir)
    for (const entry of ['elements', 'files', 'project.conf']) await cp(path.join(project, entry), path.join(dir, entry), { recursive: true })
    await writeFile(path.join(dir, 'user.conf'), `artifacts:\n  url: http://${peer.tcpAddresses[0]!}\n  push: false\n`)
    return { peer, dir }
  }

  it('pushes built artifacts to A; a fresh cache pulls them through B, a peer of A, and checks them out identically', async () => {
    const built = await bst(project, path.join(root, 'home1', 'cache'), ['build', 'hello.bst', 'data.bst'])
    expect(built.code, built.output).toBe(0)
    expect(built.output).toMatch(/Push Queue:\s+processed 2, skipped 0, failed 0/)
    expect(await node.store.names.count('ref')).toBeGreaterThanOrEqual(2)
    // An explicit push finds them already there.
    const pushed = await bst(project, path.join(root, 'home1', 'cache'), ['push', 'hello.bst', 'data.bst'])
    expect(pushed.code, pushed.output).toBe(0)

    const { peer: b, dir } = await peerProject('b', true)
    try {
      const fresh = path.join(root, 'home2', 'cache')
      const pulled = await bst(dir, fresh, ['pull', 'hello.bst', 'data.bst'])
      expect(pulled.code, pulled.output).toBe(0)
      expect(pulled.output).toMatch(/Pull Queue:\s+processed 2, skipped 0, failed 0/)
      for (const name of ['hello', 'data']) {
        const out = path.join(root, `checkout-${name}`)
        const checkout = await bst(dir, fresh, ['checkout', `${name}.bst`, out])
        expect(checkout.code, checkout.output).toBe(0)
        expect(await snapshot(out)).toEqual(await snapshot(path.join(project, 'files', name)))
      }
      expect(await b.store.names.count('ref')).toBeGreaterThanOrEqual(2)
    } finally {
      await b.stop()
    }
  }, 300_000)

  it('gets no artifact through C, a peer of A that does not trust it', async () => {
    const { peer: c, dir } = await peerProject('c', false)
    try {
      const pulled = await bst(dir, path.join(root, 'home3', 'cache'), ['pull', 'hello.bst'])
      expect(pulled.code, pulled.output).toBe(0)
      expect(pulled.output).toMatch(/Remote \(http:\/\/127\.0\.0\.1:\d+\) does not have \w+ cached/)
      expect(pulled.output).toMatch(/Pull Queue:\s+processed 0, skipped 1, failed 0/)
      expect(await c.store.names.count('ref')).toBe(0)
    } finally {
      await c.stop()
    }
  }, 120_000)
})


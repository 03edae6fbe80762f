// End-to-end: a real Bazel (Debian's bazel-bootstrap 4.2.3) downloads its external
// repositories (`http_file`, `http_archive`) through a peercas node with
// `--experimental_remote_downloader`. Node A fetches them from a local HTTP server once;
// with that server stopped, a fresh output base and repository cache build through node B,
// a peer of A that has never seen the URLs and may not reach the internet itself. A
// corrupted origin is refused with a clear error and nothing is stored.
//
// Bazel 4.2.3 needs `--remote_cache` next to the downloader (it reads the blob from the CAS),
// sends `checksum.sri` (and `bazel.canonical_id` when set) as qualifiers, and does not fall
// back to a direct download when the downloader fails, so the node is the only way in.

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TestNode } from '../helpers/node.js'
import { startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import { startTestOrigin, type TestOrigin } from '../helpers/assets.js'
import { digestOf } from '../../node/store/digest.js'
import {
  BAZEL_BIN,
  type BazelWorkspace,
  bazelBuild,
  describeBazelResult,
  hasBazel,
  prepareBazelWorkspace
} from '../helpers/bazel.js'

const TEST_TIMEOUT_MS = 300_000
const FIXTURE = fileURLToPath(new URL('./fixtures/bazel-assets-workspace/', import.meta.url))
const bazelAvailable = await hasBazel()
if (!bazelAvailable) console.warn(`[bazel assets e2e] SKIPPED: ${BAZEL_BIN} not found (install Debian's bazel-bootstrap).`)

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

/** A gzipped tarball `lib/{BUILD,data.txt}` made with the system tar. */
async function makeLibTarball (): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'peercas-lib-'))
  try {
    await mkdir(path.join(dir, 'lib'))
    await writeFile(path.join(dir, 'lib', 'BUILD'), 'filegroup(name = "files", srcs = ["data.txt"], visibility = ["//visibility:public"])\n')
    await writeFile(path.join(dir, 'lib', 'data.txt'), 'data from the archive\n')
    execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-czf', 'lib.tar.gz', 'lib'], { cwd: dir })
    return await readFile(path.join(dir, 'lib.tar.gz'))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function workspaceFile (base: string, hello: Buffer, lib: Buffer): string {
  return [
    'workspace(name = "peercas_assets_e2e")',
    'load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive", "http_file")',
    `http_file(name = "hello", urls = ["${base}/files/hello.txt"], sha256 = "${sha256(hello)}", downloaded_file_path = "hello.txt")`,
    `http_archive(name = "lib", urls = ["${base}/archives/lib.tar.gz", "${base}/mirror/lib.tar.gz"], sha256 = "${sha256(lib)}", strip_prefix = "lib")`,
    ''
  ].join('\n')
}

/** Flags: the node as remote cache and downloader; downloads allowed (the common args disable them). */
function downloaderArgs (node: TestNode): string[] {
  const url = `grpc://${node.tcpAddresses[0]!}`
  return ['--noexperimental_repository_disable_download', `--experimental_remote_downloader=${url}`]
}

describe.skipIf(!bazelAvailable)(`Bazel 4 downloading external repositories through a peercas node${bazelAvailable ? '' : ` (skipped: ${BAZEL_BIN} missing)`}`, () => {
  let node: TestNode
  let origin: TestOrigin
  const workspaces: BazelWorkspace[] = []
  const hello = Buffer.from('hello from an http_file\n')
  let lib: Buffer

  beforeAll(async () => {
    lib = await makeLibTarball()
    origin = await startTestOrigin()
    origin.serve('/files/hello.txt', hello)
    origin.serve('/archives/lib.tar.gz', lib)
    node = await startP2pTestNode({ flags: { listen: ['127.0.0.1:0'] } })
  }, 60_000)

  afterAll(async () => {
    await node?.stop()
    await origin?.stop()
    for (const ws of workspaces) await ws.cleanup()
  }, 60_000)

  async function workspace (contents: string): Promise<BazelWorkspace> {
    const ws = await prepareBazelWorkspace({ fixtureDir: FIXTURE })
    workspaces.push(ws)
    await writeFile(path.join(ws.workspaceDir, 'WORKSPACE'), contents)
    return ws
  }

  it('builds through node A, which fetches each asset from its origin once; then offline through node B, a peer of A', async () => {
    const contents = workspaceFile(origin.url, hello, lib)
    const first = await workspace(contents)
    const cold = await bazelBuild(first.workspaceDir, { remoteCache: node.tcpAddresses[0], extraArgs: downloaderArgs(node) })
    expect(cold.exitCode, describeBazelResult(cold)).toBe(0)
    expect(await readFile(path.join(first.workspaceDir, 'bazel-bin', 'combined.txt'), 'utf8')).toBe('hello from an http_file\ndata from the archive\n')
    expect(origin.hits('/files/hello.txt')).toBe(1)
    expect(origin.hits('/archives/lib.tar.gz')).toBe(1)
    expect(origin.hits('/mirror/lib.tar.gz')).toBe(0)
    expect(await node.store.findMissing([digestOf(hello), digestOf(lib)])).toEqual([])
    expect(await node.store.names.count('asset')).toBe(2)

    // The origin goes away; a fresh checkout with its own output base and repository cache
    // gets both repositories through node B, which trusts A and never reaches the internet.
    await origin.stop()
    const b = await startP2pTestNode({ peers: [node.p2p!.addresses[0]!], trust: [node.p2p!.peerId], flags: { listen: ['127.0.0.1:0'], assets: { originFetch: false } } })
    try {
      await waitFor(() => b.p2p.peers().some((p) => p.peerId === node.p2p!.peerId && p.connected === true), 'B connected to A', 15_000)
      const offline = await workspace(contents)
      const warm = await bazelBuild(offline.workspaceDir, { remoteCache: b.tcpAddresses[0], extraArgs: downloaderArgs(b) })
      expect(warm.exitCode, describeBazelResult(warm)).toBe(0)
      expect(await readFile(path.join(offline.workspaceDir, 'bazel-bin', 'combined.txt'), 'utf8')).toBe('hello from an http_file\ndata from the archive\n')
      expect(await b.store.names.count('asset')).toBe(2)
      expect(await b.store.findMissing([digestOf(hello), digestOf(lib)])).toEqual([])
    } finally {
      await b.stop()
    }
  }, TEST_TIMEOUT_MS)

  it('refuses a corrupted origin with a clear error and stores nothing', async () => {
    const bad = await startTestOrigin()
    try {
      const corrupted = Buffer.from('hello from an attacker\n')
      bad.serve('/files/hello.txt', corrupted)
      bad.serve('/archives/lib.tar.gz', lib)
      const assetsBefore = await node.store.names.count('asset')
      const ws = await workspace(workspaceFile(bad.url, hello, lib))
      const result = await bazelBuild(ws.workspaceDir, { remoteCache: node.tcpAddresses[0], extraArgs: downloaderArgs(node) })
      expect(result.exitCode, describeBazelResult(result)).not.toBe(0)
      expect(result.stderr).toMatch(/DATA_LOSS: bytes from http:\/\/127\.0\.0\.1:\d+\/files\/hello\.txt do not match checksum\.sri: expected sha256-\S+, got sha256-\S+; nothing was stored/)
      // Refused once, not retried.
      expect(bad.hits('/files/hello.txt')).toBe(1)
      expect(await node.store.findMissing([digestOf(corrupted)])).toEqual([digestOf(corrupted)])
      // At most the archive's mapping (same bytes, other URL) was added; never one for the bad file.
      expect(await node.store.names.count('asset')).toBeLessThanOrEqual(assetsBefore + 1)
    } finally {
      await bad.stop()
    }
  }, TEST_TIMEOUT_MS)
})

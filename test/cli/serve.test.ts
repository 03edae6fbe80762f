import { describe, it, expect, afterEach } from 'vitest'
import { randomBytes, createHash } from 'node:crypto'
import { readFile, writeFile, stat, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import { makeTempDir } from '../helpers/node.js'
import { runPeercas, peercas, type PeercasProcess } from '../helpers/process.js'
import { createClients, unary } from '../../node/reapi/clients.js'
import { uploadResourceName } from '../../node/domain/resource-names.js'
import { digestOf } from '../../node/store/digest.js'
import { status } from '@grpc/grpc-js'
import { createAssetClients, startTestOrigin } from '../helpers/assets.js'
import { expectRpcError } from '../helpers/grpc.js'

const running: PeercasProcess[] = []
const dirs: string[] = []

async function tempDir (): Promise<string> {
  const d = await makeTempDir('peercas-cli-')
  dirs.push(d)
  return d
}

function serve (dataDir: string, extra: string[] = []): PeercasProcess {
  const p = runPeercas(['serve', '--data-dir', dataDir, '--no-p2p', '--no-mdns', '--log-level', 'warn', ...extra])
  running.push(p)
  return p
}

afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill('SIGKILL'); await p.exited }
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

describe('peercas serve and the client commands', () => {
  it('serves on a 0600 socket, writes node.json, and stops cleanly on SIGTERM', async () => {
    const dir = await tempDir()
    const node = serve(dir, ['--listen', '127.0.0.1:0'])
    await node.ready
    const info = JSON.parse(await readFile(join(dir, 'node.json'), 'utf8')) as { pid: number, socket: string, tcp: string[] }
    expect(info.pid).toBe(node.child.pid)
    expect(info.socket).toBe(join(dir, 'cas.sock'))
    expect(info.tcp[0]).toMatch(/^127\.0\.0\.1:\d+$/)
    expect((await stat(info.socket)).mode & 0o777).toBe(0o600)
    expect(node.stdout()).toContain(`peercas ready: socket ${info.socket}`)
    node.child.kill('SIGTERM')
    expect(await node.exited, node.stderr()).toEqual({ code: 0, signal: null })
    await expect(stat(join(dir, 'node.json'))).rejects.toThrow()
    await expect(stat(info.socket)).rejects.toThrow()
  })

  it('puts and gets a file, and reports it in status and gc', async () => {
    const dir = await tempDir()
    const node = serve(dir)
    await node.ready
    const file = join(dir, 'input.bin')
    const data = randomBytes(300_000)
    await writeFile(file, data)
    const put = await peercas(['put', file, '--data-dir', dir])
    // stderr holds exactly the one-line summary.
    expect(put.stderr).toMatch(/^put: 293\.0 KiB in [\d.]+ s.*\n$/)
    const d = digestOf(data)
    expect(put.stdout.trim()).toBe(`${d.hash}/${d.sizeBytes}`)
    const got = await peercas(['get', put.stdout.trim(), '-o', join(dir, 'out.bin'), '--data-dir', dir])
    expect(got.code).toBe(0)
    expect((await readFile(join(dir, 'out.bin'))).equals(data)).toBe(true)
    const status = await peercas(['status', '--json', '--data-dir', dir])
    const s = JSON.parse(status.stdout) as { store: { blobCount: number, totalBytes: number, quotaBytes: number }, hits: { localHits: number } }
    expect(s.store).toMatchObject({ blobCount: 1, totalBytes: 300_000, quotaBytes: 10 * 2 ** 30 })
    expect(s.hits.localHits).toBeGreaterThanOrEqual(1)
    const human = await peercas(['status', '--socket', join(dir, 'cas.sock')])
    expect(human.stdout).toMatch(/store: +293\.0 KiB of 10\.0 GiB \(0\.0%\), 1 blobs/)
    const gc = await peercas(['gc', '--data-dir', dir])
    expect(gc.stdout).toMatch(/evicted 0 blobs/)
  })

  it('keeps its blobs across a SIGINT stop and a restart', async () => {
    const dir = await tempDir()
    let node = serve(dir)
    await node.ready
    const file = join(dir, 'keep.bin')
    await writeFile(file, randomBytes(50_000))
    const put = await peercas(['put', file, '--data-dir', dir])
    node.child.kill('SIGINT')
    expect((await node.exited).code).toBe(0)
    node = serve(dir)
    await node.ready
    const got = await peercas(['get', put.stdout.trim(), '-o', join(dir, 'back.bin'), '--data-dir', dir])
    expect(got.code).toBe(0)
    expect((await readFile(join(dir, 'back.bin'))).equals(await readFile(file))).toBe(true)
    const s = JSON.parse((await peercas(['status', '--json', '--data-dir', dir])).stdout) as { store: { blobCount: number } }
    expect(s.store.blobCount).toBe(1)
  })

  it('explains that no node is running instead of hanging', async () => {
    const dir = await tempDir()
    const r = await peercas(['status', '--data-dir', dir])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/no peercas node is running at .*cas\.sock.*npx peercas serve/)
  })

  it('refuses a second serve on the same data dir, naming the running one', async () => {
    const dir = await tempDir()
    const first = serve(dir)
    await first.ready
    const second = serve(dir)
    const { code } = await second.exited
    expect(code).toBe(1)
    expect(second.stderr()).toMatch(new RegExp(`in use by another peercas \\(pid ${first.child.pid}`))
    // The first node is untouched and still serves.
    expect((await peercas(['status', '--json', '--data-dir', dir])).code).toBe(0)
  })

  it('refuses a second serve on the same socket from another data dir', async () => {
    const dir = await tempDir()
    const other = await tempDir()
    const first = serve(dir)
    await first.ready
    const second = serve(other, ['--socket', join(dir, 'cas.sock')])
    expect((await second.exited).code).toBe(1)
    expect(second.stderr()).toMatch(/another process is serving on/)
  })

  it('refuses to replace a file that is not a socket at the socket path', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'cas.sock'), 'precious')
    const node = serve(dir)
    expect((await node.exited).code).toBe(1)
    expect(node.stderr()).toMatch(/exists and is not a socket/)
    expect(await readFile(join(dir, 'cas.sock'), 'utf8')).toBe('precious')
  })

  it('rejects a bad config value with a message naming the key and value', async () => {
    const dir = await tempDir()
    const node = serve(dir, ['--max-size', 'lots'])
    expect((await node.exited).code).toBe(1)
    expect(node.stderr()).toMatch(/maxSize = "lots" \(from command line\).*not a byte size/)
  })

  it('leaves no corrupt or partial blob after kill -9 during a ByteStream write, and replaces the stale socket', async () => {
    const dir = await tempDir()
    let node = serve(dir)
    await node.ready
    const small = randomBytes(1000)
    const clients = createClients(`unix:${join(dir, 'cas.sock')}`)
    await unary(clients.cas.BatchUpdateBlobs.bind(clients.cas), { requests: [{ digest: digestOf(small), data: small }] })
    const data = randomBytes(64 * 1024 * 1024)
    const d = digestOf(data)
    const call = clients.byteStream.Write(() => {})
    const name = uploadResourceName(d)
    let offset = 0
    // Send about half, then kill the server mid-stream.
    while (offset < data.length / 2) {
      const chunk = data.subarray(offset, offset + 1024 * 1024)
      if (!call.write({ resourceName: offset === 0 ? name : '', writeOffset: offset, data: chunk })) await once(call, 'drain')
      offset += chunk.length
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect((await readdir(join(dir, 'tmp'))).length).toBe(1)
    node.child.kill('SIGKILL')
    await node.exited
    clients.close()

    node = serve(dir)
    await node.ready
    expect(await readdir(join(dir, 'tmp'))).toEqual([])
    const after = createClients(`unix:${join(dir, 'cas.sock')}`)
    try {
      const missing = await unary(after.cas.FindMissingBlobs.bind(after.cas), { blobDigests: [d, digestOf(small)] })
      expect(missing.missingBlobDigests.map((m) => m.hash)).toEqual([d.hash])
      // Every file in the CAS hashes to its own name.
      for (const shard of await readdir(join(dir, 'cas'))) {
        for (const name of await readdir(join(dir, 'cas', shard))) {
          expect(createHash('sha256').update(await readFile(join(dir, 'cas', shard, name))).digest('hex')).toBe(name)
        }
      }
    } finally {
      after.close()
    }
  })
})

describe('peercas serve --no-origin-fetch', () => {
  it('never downloads a Remote Asset from its URL', async () => {
    const origin = await startTestOrigin()
    origin.serve('/dep', Buffer.from('dependency'))
    const dir = await tempDir()
    const node = serve(dir, ['--no-origin-fetch'])
    await node.ready
    const assets = createAssetClients(`unix:${join(dir, 'cas.sock')}`)
    try {
      await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/dep`] }), status.NOT_FOUND, /assets\.originFetch is off/)
      expect(origin.hits('/dep')).toBe(0)
    } finally {
      assets.close()
      await origin.stop()
    }
  })
})

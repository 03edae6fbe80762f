import { describe, it, expect, afterEach } from 'vitest'
import { spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { chmod, mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { once } from 'node:events'
import { connect } from 'node:net'
import * as grpc from '@grpc/grpc-js'
import { makeTempDir } from '../helpers/node.js'
import { NODE_BIN, PEERCAS_ENTRY, REPO_ROOT, runPeercas, type PeercasProcess } from '../helpers/process.js'
import { byteStreamUpload, createClients, unary } from '../../node/reapi/clients.js'
import { digestOf } from '../../node/store/digest.js'

const running: PeercasProcess[] = []
const dirs: string[] = []

async function tempDir (): Promise<string> {
  const d = await makeTempDir('peercas-harden-')
  dirs.push(d)
  return d
}

afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill('SIGKILL'); await p.exited }
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

/** `peercas serve` on `dataDir`, optionally under a shell's `umask`. */
function serve (dataDir: string, { umask }: { umask?: string } = {}): PeercasProcess {
  const args = ['serve', '--data-dir', dataDir, '--no-p2p', '--no-mdns', '--log-level', 'warn']
  if (umask === undefined) {
    const p = runPeercas(args)
    running.push(p)
    return p
  }
  // Same shape as runPeercas, started by a shell that sets the umask first.
  const child = spawn('sh', ['-c', `umask ${umask} && exec "$@"`, 'sh', NODE_BIN, ...PEERCAS_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, PEERCAS_P2P_MDNS: 'false' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }))
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => { if (out.includes('peercas ready')) resolve() })
    void exited.then(({ code }) => { reject(new Error(`peercas exited (${code}) before it was ready:\n${err}`)) })
  })
  ready.catch(() => {})
  const p: PeercasProcess = { child, stdout: () => out, stderr: () => err, ready, exited }
  running.push(p)
  return p
}

const modeOf = async (path: string): Promise<string> => ((await stat(path)).mode & 0o777).toString(8)

describe('a node keeps its data private and stops promptly', () => {
  it('makes an existing 0755 data dir private, and says so', async () => {
    const dir = join(await tempDir(), 'data')
    await mkdir(dir)
    await chmod(dir, 0o755)
    const node = serve(dir)
    await node.ready
    expect(await modeOf(dir)).toBe('700')
    expect(node.stderr()).toMatch(/data dir .* was readable by other users.*0700/)
    node.child.kill('SIGTERM')
    expect((await node.exited).code).toBe(0)
  })

  it('writes blob files 0600 and folders 0700 even under umask 000', async () => {
    const dir = join(await tempDir(), 'data')
    const node = serve(dir, { umask: '000' })
    await node.ready
    const clients = createClients(`unix:${join(dir, 'cas.sock')}`)
    try {
      const large = randomBytes(300_000)
      const small = randomBytes(100)
      const d = digestOf(large)
      await byteStreamUpload(clients.byteStream, d, large)
      await byteStreamUpload(clients.byteStream, digestOf(small), small)
      // An upload kept for a resume leaves a temp file.
      const partial = randomBytes(200_000)
      const p = digestOf(partial)
      await new Promise<void>((resolve) => {
        const call = clients.byteStream.Write(() => { resolve() })
        call.write({ resourceName: `uploads/${randomUUID()}/blobs/${p.hash}/${p.sizeBytes}`, writeOffset: 0, data: partial.subarray(0, 100_000), finishWrite: false })
        call.end()
      })
      const temps = await readdir(join(dir, 'tmp'))
      expect(temps).toHaveLength(1)
      const modes = {
        dataDir: await modeOf(dir),
        cas: await modeOf(join(dir, 'cas')),
        shard: await modeOf(join(dir, 'cas', d.hash.slice(0, 2))),
        blob: await modeOf(join(dir, 'cas', d.hash.slice(0, 2), d.hash)),
        tmp: await modeOf(join(dir, 'tmp')),
        temp: await modeOf(join(dir, 'tmp', temps[0]!)),
        index: await modeOf(join(dir, 'index'))
      }
      expect(modes).toEqual({ dataDir: '700', cas: '700', shard: '700', blob: '600', tmp: '700', temp: '600', index: '700' })
    } finally {
      clients.close()
    }
  })

  it('answers INVALID_ARGUMENT, not INTERNAL, to bytes that are not a protobuf message', async () => {
    const dir = join(await tempDir(), 'data')
    const node = serve(dir)
    await node.ready
    const client = new grpc.Client(`unix:${join(dir, 'cas.sock')}`, grpc.credentials.createInsecure())
    try {
      const error = await new Promise<grpc.ServiceError | null>((resolve) => {
        client.makeUnaryRequest('/build.bazel.remote.execution.v2.ContentAddressableStorage/FindMissingBlobs',
          (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0xff, 0xff, 0xff]) /* a varint that never ends */, (e) => { resolve(e) })
      })
      expect(error?.code, error?.details).toBe(grpc.status.INVALID_ARGUMENT)
      expect(error?.details).toMatch(/FindMissingBlobs/)
    } finally {
      client.close()
    }
  })

  it('stops at once on SIGTERM when clients hold idle connections', async () => {
    const dir = join(await tempDir(), 'data')
    const node = serve(dir)
    await node.ready
    const clients = createClients(`unix:${join(dir, 'cas.sock')}`)
    // A connection that never gets past the HTTP/2 preface (a stuck or non-gRPC client).
    const raw = connect(join(dir, 'cas.sock'))
    try {
      await once(raw, 'connect')
      raw.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
      await unary(clients.capabilities.GetCapabilities.bind(clients.capabilities), {})
      const started = performance.now()
      node.child.kill('SIGTERM')
      expect((await node.exited).code).toBe(0)
      // The grace for calls in flight is 5 s; with none in flight the stop does not wait for it.
      expect(performance.now() - started).toBeLessThan(2500)
    } finally {
      raw.destroy()
      clients.close()
    }
  })
})

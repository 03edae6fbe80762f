import { describe, it, expect, afterEach } from 'vitest'
import { createServer, type Server } from 'node:net'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, writeFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runPeercas, peercas, type PeercasProcess } from '../helpers/process.js'
import { waitFor } from '../helpers/wait.js'
import { digestOf, formatDigest } from '../../node/store/digest.js'
import { makeTempDir, startTestNode, type TestNode } from '../helpers/node.js'
import { freePort, startFaultyCentral } from '../helpers/remote-central.js'
import { TEST_PSK_FILE } from '../helpers/team-key.js'

const running: PeercasProcess[] = []
const dirs: string[] = []
const servers: Server[] = []

async function tempDir (): Promise<string> {
  const d = await makeTempDir('peercas-truth-')
  dirs.push(d)
  return d
}

function serve (dataDir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): PeercasProcess {
  // p2p runs behind the test team key (without one it stays off).
  const p = runPeercas(['serve', '--data-dir', dataDir, '--no-mdns', '--psk', TEST_PSK_FILE, ...extra], env)
  running.push(p)
  return p
}

/** A TCP server on a free loopback port that accepts connections and never says anything. */
async function silentServer (): Promise<number> {
  const server = createServer(() => {})
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as { port: number }).port
}

/** stderr split into lines, without the trailing empty one. */
function lines (text: string): string[] {
  return text.split('\n').filter((l) => l !== '')
}

afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) { p.child.kill('SIGKILL'); await p.exited }
  }
  for (const s of servers.splice(0)) s.close()
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

describe('start-up failures are one line and a non-zero exit before anything starts', () => {
  it('refuses --peer garbage with a message that shows what a peer address looks like', async () => {
    const node = serve(await tempDir(), ['--peer', 'garbage', '--p2p-listen', '/ip4/127.0.0.1/tcp/0'])
    expect((await node.exited).code).toBe(1)
    expect(node.stdout()).toBe('')
    expect(lines(node.stderr())).toEqual([expect.stringMatching(/^peercas serve: invalid configuration: p2p\.peers\.0 = "garbage" \(from command line\): is not a multiaddr; a peer looks like \/ip4\/.*\/p2p\//)])
  })

  it('refuses a peer address without a valid /p2p/ peer ID', async () => {
    const node = serve(await tempDir(), ['--peer', '/ip4/127.0.0.1/tcp/4737', '--peer', '/ip4/127.0.0.1/tcp/4737/p2p/notapeerid'])
    expect((await node.exited).code).toBe(1)
    const [line, ...rest] = lines(node.stderr())
    expect(rest).toEqual([])
    expect(line).toMatch(/p2p\.peers\.0 = .* has no \/p2p\/PEERID/)
    expect(line).toMatch(/p2p\.peers\.1 = .* ends in \/p2p\/notapeerid, which is not a libp2p peer ID/)
  })

  it('names a TCP port in use, without a stray grpc-js line or a started p2p host', async () => {
    const port = await silentServer()
    const node = serve(await tempDir(), ['--listen', `127.0.0.1:${port}`, '--p2p-listen', '/ip4/127.0.0.1/tcp/0'])
    expect((await node.exited).code).toBe(1)
    expect(lines(node.stderr())).toEqual([`peercas serve: cannot listen on 127.0.0.1:${port} (--listen): the port is in use (another peercas or another program); stop it or pick another port`])
  })

  it('names a metrics port in use', async () => {
    const port = await silentServer()
    const node = serve(await tempDir(), ['--no-p2p', '--metrics', `127.0.0.1:${port}`])
    expect((await node.exited).code).toBe(1)
    expect(lines(node.stderr())).toEqual([expect.stringMatching(new RegExp(`^peercas serve: cannot listen on 127\\.0\\.0\\.1:${port} \\(--metrics\\): the port is in use`))])
  })

  it('says when the socket cannot be created', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'file'), '')
    const node = serve(dir, ['--no-p2p', '--socket', join(dir, 'file', 'cas.sock')])
    expect((await node.exited).code).toBe(1)
    expect(lines(node.stderr())).toEqual([`peercas serve: cannot use ${join(dir, 'file')} as the socket directory: it or a parent is not a directory; fix its permissions or pass another --socket`])
  })

  it('says the data dir is locked by a running node, in one line', async () => {
    const dir = await tempDir()
    const first = serve(dir, ['--no-p2p'])
    await first.ready
    const second = serve(dir, ['--no-p2p'])
    expect((await second.exited).code).toBe(1)
    expect(lines(second.stderr())).toEqual([`peercas serve: data dir ${dir} is in use by another peercas (pid ${first.child.pid}, socket ${join(dir, 'cas.sock')}); stop it or pass another --data-dir`])
  })

  it('names a YAML value of the wrong type with its key and the expected type', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'peercas.yaml'), 'store:\n  fsync: "sometimes"\np2p:\n  peers: /ip4/1.2.3.4/tcp/1\n')
    const node = serve(dir, ['--config', join(dir, 'peercas.yaml')])
    expect((await node.exited).code).toBe(1)
    const [line, ...rest] = lines(node.stderr())
    expect(rest).toEqual([])
    expect(line).toContain(`store.fsync = "sometimes" (from config file ${join(dir, 'peercas.yaml')}): expected a boolean (true or false), got a string`)
    expect(line).toContain('p2p.peers = "/ip4/1.2.3.4/tcp/1" (from config file')
    expect(line).toContain('expected a list')
    expect(line).not.toContain('Invalid input')
  })

  it('still rejects a wrong YAML value that a flag overrides', async () => {
    const dir = await tempDir()
    await writeFile(join(dir, 'peercas.yaml'), 'maxSize: lots\n')
    const node = serve(dir, ['--no-p2p', '--config', join(dir, 'peercas.yaml'), '--max-size', '1GiB'])
    expect((await node.exited).code).toBe(1)
    expect(node.stderr()).toMatch(/^peercas serve: invalid configuration: maxSize = "lots" \(from config file .*\): "lots" is not a byte size/)
  })

  it('rejects a zero quota by its key, not an internal name', async () => {
    const node = serve(await tempDir(), ['--no-p2p', '--max-size', '0'])
    expect((await node.exited).code).toBe(1)
    expect(lines(node.stderr())).toEqual(['peercas serve: invalid configuration: maxSize = "0" (from command line): must be more than 0'])
  })
})

describe('usage, help and version', () => {
  it('prints --help for every command and exits 0', async () => {
    for (const command of ['serve', 'status', 'put', 'get', 'gc', 'flush', 'sync']) {
      const r = await peercas([command, '--help'])
      expect(r.code, command).toBe(0)
      expect(r.stdout, command).toMatch(new RegExp(`^Usage: peercas ${command}`))
      expect(r.stderr, command).toBe('')
    }
  })

  it('prints its version', async () => {
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
    const r = await peercas(['--version'])
    expect(r).toEqual({ code: 0, stdout: `peercas ${pkg.version}\n`, stderr: '' })
  })

  it('exits 2 with one line for usage errors', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['put'], /^peercas put: no FILE given; usage: peercas put FILE \(see peercas put --help\)$/],
      [['get', 'nonsense'], /^peercas get: "nonsense" is not a digest: expected HASH\/SIZE/],
      [['status', '--bogus'], /^peercas status: Unknown option '--bogus'.*\(see peercas status --help\)$/],
      [['flush', '--timeout', 'soon'], /^peercas flush: --timeout soon is not a duration/],
      [['frobnicate'], /^peercas: unknown command "frobnicate"; the commands are serve, status/]
    ]
    for (const [args, message] of cases) {
      const r = await peercas(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(lines(r.stderr), args.join(' ')).toEqual([expect.stringMatching(message)])
    }
    const missingFile = await peercas(['put', '/nonexistent/file.bin'])
    expect(missingFile.code).toBe(1)
    expect(missingFile.stderr).toBe('peercas put: cannot read /nonexistent/file.bin: no such file or directory\n')
    const bare = await peercas([])
    expect(bare.code).toBe(2)
    expect(bare.stderr).toMatch(/^Usage: peercas <command>/)
  })

  it('reports a missing blob without the raw gRPC status prefix', async () => {
    const dir = await tempDir()
    const node = serve(dir, ['--no-p2p'])
    await node.ready
    const digest = formatDigest(digestOf(Buffer.from('never stored')))
    const r = await peercas(['get', digest, '--data-dir', dir])
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^peercas get: .*not on this node, its peers or the central CAS/)])
    expect(r.stderr).not.toMatch(/\d+ NOT_FOUND:/)
  })
})

describe('telling the operator what is going on', () => {
  it('shows a closed peer port at warn level and in status, and its own multiaddrs in the ready line and status', async () => {
    const dir = await tempDir()
    const closed = await silentServer()
    servers.pop()!.close()
    const peer = `/ip4/127.0.0.1/tcp/${closed}/p2p/12D3KooWLRPJAA5o6Z6Y5CB4b2L2UubePzXWgYRDnfQuxYBR8GUM`
    const node = serve(dir, ['--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--peer', peer])
    await node.ready
    const info = JSON.parse(await readFile(join(dir, 'node.json'), 'utf8')) as { p2p: string[] }
    expect(node.stdout()).toContain(`p2p ${info.p2p[0]!}`)
    await waitFor(() => node.stderr().includes('cannot reach static peer'), 'the dial failure in the log')
    const warning = lines(node.stderr()).map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.msg === 'cannot reach static peer; retrying')
    expect(warning).toMatchObject({ level: 'warn', address: peer, reason: expect.stringMatching(/connection refused/) })
    const status = await peercas(['status', '--data-dir', dir])
    expect(status.stdout).toContain(info.p2p[0]!)
    expect(status.stdout).toMatch(new RegExp(`${peer.replace(/[/.]/g, '\\$&')}  dialling \\(\\d+ failed: connection refused`))
  })

  it('keeps its p2p port across restarts, and takes a new one when that port is taken', async () => {
    const dir = await tempDir()
    const p2pPort = async (): Promise<number> => Number(/\/tcp\/(\d+)\//.exec((JSON.parse(await readFile(join(dir, 'node.json'), 'utf8')) as { p2p: string[] }).p2p[0]!)![1])
    const start = async (): Promise<PeercasProcess> => { const n = serve(dir, ['--p2p-listen', '/ip4/127.0.0.1/tcp/0']); await n.ready; return n }
    let node = await start()
    const first = await p2pPort()
    expect(Number(await readFile(join(dir, 'p2p-port'), 'utf8'))).toBe(first)
    node.child.kill('SIGTERM')
    expect((await node.exited).code).toBe(0)
    node = await start()
    expect(await p2pPort()).toBe(first)
    node.child.kill('SIGTERM')
    await node.exited
    // Someone else takes the port while the node is down.
    const squatter = createServer(() => {})
    servers.push(squatter)
    squatter.listen(first, '127.0.0.1')
    await once(squatter, 'listening')
    node = await start()
    const second = await p2pPort()
    expect(second).not.toBe(first)
    expect(Number(await readFile(join(dir, 'p2p-port'), 'utf8'))).toBe(second)
    expect(node.stderr()).toContain('the remembered p2p port is not available')
  })

  it('redraws status with --watch until Ctrl-C', async () => {
    const dir = await tempDir()
    const node = serve(dir, ['--no-p2p'])
    await node.ready
    const watch = runPeercas(['status', '--watch', '--interval', '0.2', '--data-dir', dir])
    running.push(watch)
    await waitFor(() => (watch.stdout().match(/^peercas \d/gm) ?? []).length >= 3, 'three snapshots')
    watch.child.kill('SIGINT')
    expect((await watch.exited).code).toBe(0)
  })

  it('says when a peer answers with a different peer ID', async () => {
    const a = await tempDir()
    const first = serve(a, ['--p2p-listen', '/ip4/127.0.0.1/tcp/0'])
    await first.ready
    const real = (JSON.parse(await readFile(join(a, 'node.json'), 'utf8')) as { p2p: string[] }).p2p[0]!
    const wrong = real.replace(/\/p2p\/.*$/, '/p2p/12D3KooWLRPJAA5o6Z6Y5CB4b2L2UubePzXWgYRDnfQuxYBR8GUM')
    const b = await tempDir()
    const second = serve(b, ['--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--peer', wrong])
    await second.ready
    await waitFor(() => second.stderr().includes('cannot reach static peer'), 'the dial failure in the log')
    const status = await peercas(['status', '--data-dir', b])
    expect(status.stdout).toMatch(/dialling \(\d+ failed: the peer at this address has a different peer ID/)
  })

  it('syncs from a peer with a summary line, and says when there is nothing to do', async () => {
    const a = await tempDir()
    const first = serve(a, ['--p2p-listen', '/ip4/127.0.0.1/tcp/0'])
    await first.ready
    for (let i = 0; i < 3; i++) {
      await writeFile(join(a, `f${i}`), randomBytes(100_000))
      expect((await peercas(['put', join(a, `f${i}`), '--data-dir', a])).code).toBe(0)
    }
    const address = (JSON.parse(await readFile(join(a, 'node.json'), 'utf8')) as { p2p: string[] }).p2p[0]!
    const b = await tempDir()
    const second = serve(b, ['--p2p-listen', '/ip4/127.0.0.1/tcp/0'])
    await second.ready
    const sync = await peercas(['sync', address, '--data-dir', b])
    expect(sync.code, sync.stderr).toBe(0)
    expect(lines(sync.stderr)).toEqual([expect.stringMatching(/^sync: 3 items fetched \(293\.0 KiB\) in [\d.]+ s, 0 already here, 0 failed/)])
    const again = await peercas(['sync', address, '--data-dir', b])
    expect(again.code).toBe(0)
    expect(lines(again.stderr)).toEqual([expect.stringMatching(/^sync: nothing to do: this node already has all 3 items the peer listed/)])
  })

  it('explains why gc evicted nothing', async () => {
    const dir = await tempDir()
    const node = serve(dir, ['--no-p2p'])
    await node.ready
    const r = await peercas(['gc', '--data-dir', dir])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^evicted 0 blobs \(0 B\); store now 0 B of 10\.0 GiB \(0\.0%\): nothing to do, the store is below its low watermark \(85% = 8\.5 GiB\)\n$/)
  })

  it('keeps Node warnings inside the JSON log', async () => {
    const dir = await tempDir()
    // A module loaded before the CLI that emits a warning once the node runs.
    const warn = join(dir, 'warn.mjs')
    await writeFile(warn, "setTimeout(() => { process.emitWarning('old_api', 'DeprecationWarning', 'DEP0137') }, 1500)\n")
    const node = serve(dir, ['--no-p2p'], { NODE_OPTIONS: `--import=${pathToFileURL(warn).href}` })
    await node.ready
    await waitFor(() => node.stderr().includes('old_api'), 'the warning')
    for (const line of lines(node.stderr())) expect(() => JSON.parse(line), line).not.toThrow()
    expect(node.stderr()).toMatch(/"level":"warn","scope":"peercas:node","msg":"old_api","warning":"DeprecationWarning","code":"DEP0137"/)
  })

  it('stops showing the central\'s old error once it is back online', async () => {
    const dir = await tempDir()
    const port = await freePort()
    const node = serve(dir, ['--no-p2p', '--remote', `grpc://127.0.0.1:${port}`])
    await node.ready
    await waitFor(async () => (await peercas(['status', '--data-dir', dir])).stdout.includes('OFFLINE'), 'the central offline')
    const offline = (await peercas(['status', '--data-dir', dir])).stdout
    expect(offline).toMatch(/central: +grpc:\/\/127\.0\.0\.1:\d+ OFFLINE; upload queue 0 \(0 B\); last error: .*unreachable/)
    expect(offline).not.toMatch(/Resolution note/)
    let central: TestNode | undefined
    try {
      central = await startTestNode({ listen: [`127.0.0.1:${port}`] })
      await waitFor(async () => (await peercas(['status', '--data-dir', dir])).stdout.includes(' online'), 'the central back online', 20_000, 200)
      const online = (await peercas(['status', '--json', '--data-dir', dir])).stdout
      expect(JSON.parse(online).remote).toMatchObject({ online: true, lastError: '' })
      expect((await peercas(['status', '--data-dir', dir])).stdout).not.toMatch(/unreachable|last error/)
      const flush = await peercas(['flush', '--data-dir', dir])
      expect(flush).toMatchObject({ code: 0, stderr: 'flush: nothing to upload: the queue to the central CAS is empty\n' })
    } finally {
      await central?.stop()
    }
  })

  it('removes FILE.peercas-partial when get -o FILE is interrupted', async () => {
    const dir = await tempDir()
    // A central that answers at first, then takes 30 s over every call: the read waits on it
    // (up to remote.clientWait, 10 s) long enough to be interrupted.
    const central = await startFaultyCentral()
    try {
      const node = serve(dir, ['--no-p2p', '--remote', central.endpoint])
      await node.ready
      await waitFor(async () => (await peercas(['status', '--data-dir', dir])).stdout.includes(' online'), 'the central online')
      central.faults.delayMs = 30_000
      const out = join(dir, 'blob.out')
      const get = runPeercas(['get', formatDigest(digestOf(randomBytes(100))), '-o', out, '--data-dir', dir])
      running.push(get)
      await waitFor(() => existsSync(`${out}.peercas-partial`), 'the partial file')
      get.child.kill('SIGINT')
      const { code } = await get.exited
      expect(code).toBe(130)
      expect(existsSync(`${out}.peercas-partial`)).toBe(false)
      expect(existsSync(out)).toBe(false)
      expect(get.stderr()).toMatch(/get: interrupted after 0 B; .*blob\.out not written/)
    } finally {
      await central.stop(true)
    }
  })
})

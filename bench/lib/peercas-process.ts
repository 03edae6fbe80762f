import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { REPO_ROOT } from './paths.js'
import { PEERCAS_NODE_FLAGS } from '../../node/cli/runtime-flags.js'

/** A `peercas serve` child process started by the harness. */
export interface PeercasProcess {
  readonly pid: number
  /** `unix:/…/cas.sock` */
  readonly target: string
  readonly socketPath: string
  /** TCP addresses from the ready line (with `--listen`). */
  readonly tcp: string[]
  /** libp2p peer ID and listen multiaddrs (with /p2p/ID), when started with `p2p: true`. */
  readonly peerId: string | undefined
  readonly p2p: string[]
  /** Milliseconds from spawn until it printed `peercas ready`. */
  readonly readyMs: number
  /** Resident set size now, in bytes (from /proc). */
  rssBytes(): Promise<number>
  /** Resident memory split into anonymous (heaps) and file-backed (the node binary, mmapped LevelDB tables), bytes. */
  rssParts(): Promise<{ anon: number, file: number }>
  /** CPU time (user + system) the process has used so far, in ms (from /proc). */
  cpuMs(): Promise<number>
  /** SIGTERM, then waits for a clean exit. */
  stop(): Promise<void>
}

/** Options of {@link startPeercas}. */
export interface StartPeercasInit {
  dataDir: string
  /** Extra Node flags, e.g. `--cpu-prof --cpu-prof-dir=…`. */
  execArgv?: string[]
  /** @default '64GiB' */
  maxSize?: string
  /** Extra `serve` flags. */
  args?: string[]
  /** @default 60000 */
  timeoutMs?: number
  /** Run the p2p layer, listening on 127.0.0.1 only (mDNS stays off). @default false */
  p2p?: boolean
  /** Team key file of the p2p layer (bench/lib/team-key.ts); without one, p2p runs open (`--p2p-open`). */
  psk?: string
  /** Extra environment (e.g. `PEERCAS_P2P_MAX_SERVE_RATE_PER_PEER`). */
  env?: NodeJS.ProcessEnv
  /** Run inside this network namespace (`ip netns exec`; see lib/netns.ts). */
  netns?: string
  /** With `p2p`: the libp2p listen address. @default '/ip4/127.0.0.1/tcp/0' */
  p2pListen?: string
  /** Sees everything the node writes to stderr (its log), as it arrives. */
  onStderr?: (text: string) => void
}

/**
 * Runs `node bin/peercas.js serve` on `dataDir` with mDNS off (and p2p off unless asked) and waits
 * until it is ready.
 */
export async function startPeercas (init: StartPeercasInit): Promise<PeercasProcess> {
  const socketPath = join(init.dataDir, 'cas.sock')
  const args = [
    ...PEERCAS_NODE_FLAGS, ...(init.execArgv ?? []), join(REPO_ROOT, 'bin', 'peercas.js'), 'serve',
    '--data-dir', init.dataDir, '--socket', socketPath, '--max-size', init.maxSize ?? '64GiB',
    ...(init.p2p === true ? ['--p2p-listen', init.p2pListen ?? '/ip4/127.0.0.1/tcp/0', ...(init.psk !== undefined ? ['--psk', init.psk] : ['--p2p-open'])] : ['--no-p2p']), '--no-mdns', ...(init.args?.includes('--log-level') === true ? [] : ['--log-level', 'warn']), ...(init.args ?? [])
  ]
  const started = performance.now()
  const [command, commandArgs] = init.netns === undefined ? [process.execPath, args] : ['ip', ['netns', 'exec', init.netns, process.execPath, ...args]]
  const child: ChildProcess = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...init.env } })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8')
    stderr = (stderr + text).slice(-8192)
    init.onStderr?.(text)
  })
  let stdout = ''
  const readyMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`peercas serve was not ready after ${init.timeoutMs ?? 60_000} ms: ${stderr}`)) }, init.timeoutMs ?? 60_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
      if (/peercas ready.*\n/.test(stdout)) { clearTimeout(timer); resolve(performance.now() - started) }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`peercas serve exited with ${code} before it was ready: ${stderr}`)) })
  })
  child.stdout!.resume()
  const info = init.p2p === true
    ? JSON.parse(await readFile(join(init.dataDir, 'node.json'), 'utf8')) as { peerId?: string, p2p?: string[] }
    : {}
  return {
    peerId: info.peerId,
    p2p: info.p2p ?? [],
    pid: child.pid!,
    target: `unix:${socketPath}`,
    socketPath,
    readyMs,
    tcp: /, tcp ([^,\n]+)/.exec(stdout)?.[1]?.split(' ') ?? [],
    async rssBytes () {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8')
      const match = /^VmRSS:\s+(\d+) kB/m.exec(status)
      if (match === null) throw new Error('no VmRSS in /proc status')
      return Number(match[1]) * 1024
    },
    async rssParts () {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8')
      const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
      return { anon: kb('RssAnon'), file: kb('RssFile') }
    },
    async cpuMs () {
      const stat = await readFile(`/proc/${child.pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // utime and stime, in clock ticks (100 per second on Linux).
      return (Number(fields[11]) + Number(fields[12])) * 10
    },
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = once(child, 'exit')
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 20_000)
      await gone
      clearTimeout(timer)
    }
  }
}

// A small shaped LAN made of Linux network namespaces, for tests (test/lan) and the bench (LAN
// cases): N node namespaces, each joined by a veth pair to a bridge that lives in one more
// namespace created for it. Nothing touches the root namespace's interfaces: both ends of every
// veth pair are created inside the namespaces, and addresses come from a private subnet that
// exists only inside them. Every link is shaped with tc (netem: rate and delay on both ends), so
// a node's upload and download are each capped at the link rate.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { randomBytes } from 'node:crypto'

/** Every namespace this harness creates starts with this; a sweep removes stale ones by it. */
export const NETNS_PREFIX = 'pcaslan-'

/** Shape of every link of a LAN. */
export interface LinkProfile {
  readonly name: string
  /** Rate of each direction of each link, Mbit/s. */
  readonly rateMbit: number
  /** Round-trip time between two nodes (four shaped egress queues on the way), ms. */
  readonly rttMs: number
}

/** Office Ethernet: 1 Gbit/s, 0.3 ms round trip. */
export const LAN_PROFILE: LinkProfile = { name: 'lan', rateMbit: 1000, rttMs: 0.3 }
/** A VPN to home: 100 Mbit/s, 20 ms round trip. */
export const VPN_PROFILE: LinkProfile = { name: 'vpn', rateMbit: 100, rttMs: 20 }

/** The subnet inside the namespaces (never routed anywhere: the bridge is the only link). */
const SUBNET = '10.77.0'

/** One node of a {@link NetnsLan}. */
export interface LanNode {
  readonly index: number
  /** The namespace's name. */
  readonly ns: string
  /** Its IPv4 address on the LAN. */
  readonly address: string
}

/** A LAN of namespaces; {@link NetnsLan.destroy} removes all of it. */
export interface NetnsLan {
  readonly nodes: readonly LanNode[]
  readonly profile: LinkProfile
  /**
   * Whether the profile's round-trip time is emulated (tc netem). Kernels without sch_netem get
   * the rate only (tc tbf), and the round trip of a veth pair (≈ 0.05 ms).
   */
  readonly delayEmulated: boolean
  /** Spawns `command args…` inside node `index`'s namespace. */
  spawn(index: number, command: string, args: readonly string[], options?: SpawnOptions): ChildProcess
  /** Kills what was spawned, deletes every namespace (and so every link). Never throws. */
  destroy(): Promise<void>
}

/** Why this host cannot create namespaces and veth links, or `undefined` when it can. */
export function netnsUnavailableReason (): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`
  for (const tool of ['ip', 'tc']) {
    const r = spawnSync(tool, ['-V'], { encoding: 'utf8' })
    if (r.error !== undefined) return `\`${tool}\` is not installed (${r.error.message})`
  }
  const probe = `${NETNS_PREFIX}probe-${randomBytes(3).toString('hex')}`
  const add = run('ip', ['netns', 'add', probe])
  if (!add.ok) return `ip netns add is not permitted here (${add.error})`
  try {
    const veth = run('ip', ['-n', probe, 'link', 'add', 'pa', 'type', 'veth', 'peer', 'name', 'pb'])
    if (!veth.ok) return `veth links cannot be created here (${veth.error})`
    const qdisc = run('tc', ['-n', probe, 'qdisc', 'add', 'dev', 'pa', 'root', 'tbf', 'rate', '1gbit', 'burst', '128kb', 'latency', '10ms'])
    if (!qdisc.ok) return `tc tbf is not available here (${qdisc.error})`
  } finally {
    run('ip', ['netns', 'delete', probe])
  }
  return undefined
}

/** Deletes namespaces left by earlier runs that died before cleaning up (by {@link NETNS_PREFIX}). */
export function sweepStaleNamespaces (): string[] {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  if (list.status !== 0) return []
  const stale = list.stdout.split('\n').map((line) => line.split(' ')[0]!).filter((name) => name.startsWith(NETNS_PREFIX))
  // A namespace another live run still uses carries that run's pid; leave those alone.
  const gone = stale.filter((name) => {
    const pid = Number(/^pcaslan-(\d+)-/.exec(name)?.[1])
    return !(Number.isInteger(pid) && pid !== process.pid && isAlive(pid))
  })
  for (const name of gone) run('ip', ['netns', 'delete', name])
  return gone
}

/** Options of {@link createLan}. */
export interface CreateLanInit {
  nodes: number
  /** @default {@link LAN_PROFILE} */
  profile?: LinkProfile
}

/**
 * Creates the LAN: a bridge namespace and `nodes` node namespaces, each with a shaped veth link
 * to the bridge and an address `10.77.0.<index+1>/24`. Throws (after removing what it created)
 * when a step fails.
 */
export async function createLan (init: CreateLanInit): Promise<NetnsLan> {
  if (!(Number.isInteger(init.nodes) && init.nodes >= 1 && init.nodes <= 200)) throw new RangeError(`a LAN has 1..200 nodes, not ${init.nodes}`)
  const profile = init.profile ?? LAN_PROFILE
  sweepStaleNamespaces()
  const tag = `${NETNS_PREFIX}${process.pid}-${randomBytes(2).toString('hex')}`
  const bridgeNs = `${tag}-br`
  const nodes: LanNode[] = Array.from({ length: init.nodes }, (_, index) => ({ index, ns: `${tag}-${index}`, address: `${SUBNET}.${index + 1}` }))
  const created: string[] = []
  const children = new Set<ChildProcess>()
  const destroy = async (): Promise<void> => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
        child.kill('SIGKILL')
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))])
      }
    }
    for (const ns of created) run('ip', ['netns', 'delete', ns])
  }
  try {
    const step = (tool: string, ...args: string[]): void => {
      const r = run(tool, args)
      if (!r.ok) throw new Error(`${tool} ${args.join(' ')} failed: ${r.error}`)
    }
    step('ip', 'netns', 'add', bridgeNs)
    created.push(bridgeNs)
    step('ip', '-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge')
    step('ip', '-n', bridgeNs, 'link', 'set', 'br0', 'up')
    // Each direction of a node-to-node path crosses two shaped queues (sender's link, receiver's link).
    const delay = `${Math.round((profile.rttMs * 1000) / 4)}us`
    // Queue room for the bandwidth-delay product several times over (TSO sends 64 KiB packets).
    const limit = String(Math.max(1000, Math.ceil((profile.rateMbit * 1e6 / 8) * (profile.rttMs / 1000) / 1500) * 4))
    // A token bucket refilled at the rate; its burst must hold a 64 KiB GSO packet, and ~2 ms of the rate.
    const burst = `${Math.max(131072, Math.round(profile.rateMbit * 1e6 / 8 / 500))}`
    const delayed = netemAvailable()
    const shape = (ns: string, dev: string): void => {
      if (delayed) step('tc', '-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', delay, 'rate', `${profile.rateMbit}mbit`, 'limit', limit)
      else step('tc', '-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${profile.rateMbit}mbit`, 'burst', burst, 'latency', '20ms')
    }
    for (const node of nodes) {
      step('ip', 'netns', 'add', node.ns)
      created.push(node.ns)
      // Both ends are created inside the namespaces: the root namespace never sees them.
      step('ip', '-n', node.ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${node.index}`, 'netns', bridgeNs)
      step('ip', '-n', node.ns, 'addr', 'add', `${node.address}/24`, 'dev', 'eth0')
      step('ip', '-n', node.ns, 'link', 'set', 'lo', 'up')
      step('ip', '-n', node.ns, 'link', 'set', 'eth0', 'up')
      step('ip', '-n', bridgeNs, 'link', 'set', `p${node.index}`, 'master', 'br0')
      step('ip', '-n', bridgeNs, 'link', 'set', `p${node.index}`, 'up')
      shape(node.ns, 'eth0')
      shape(bridgeNs, `p${node.index}`)
    }
  } catch (error) {
    await destroy()
    throw error
  }
  return {
    nodes,
    profile,
    delayEmulated: netemAvailable(),
    spawn (index, command, args, options = {}) {
      const node = nodes[index]
      if (node === undefined) throw new RangeError(`no node ${index} in a LAN of ${nodes.length}`)
      const child = spawn('ip', ['netns', 'exec', node.ns, command, ...args], options)
      children.add(child)
      child.once('exit', () => { children.delete(child) })
      return child
    },
    destroy
  }
}

/** Receiver side of {@link measureTcpRate}: counts bytes, prints the ms from connect to the last byte. */
const TCP_SINK = `
const net = require('node:net')
const total = Number(process.argv[2])
const server = net.createServer((socket) => {
  const started = performance.now()
  let got = 0
  socket.on('data', (chunk) => {
    got += chunk.length
    if (got >= total) { process.stdout.write(String(performance.now() - started) + '\\n'); socket.end(); server.close() }
  })
})
server.listen(Number(process.argv[3]), process.argv[1], () => { process.stdout.write('listening\\n') })
`

/** Sender side of {@link measureTcpRate}: writes `total` bytes as fast as the socket drains. */
const TCP_SOURCE = `
const net = require('node:net')
const total = Number(process.argv[3])
const chunk = Buffer.alloc(1 << 20, 7)
const socket = net.connect(Number(process.argv[2]), process.argv[1], () => {
  let sent = 0
  const pump = () => {
    while (sent < total) {
      const n = Math.min(chunk.length, total - sent)
      sent += n
      if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { socket.once('drain', pump); return }
    }
  }
  pump()
})
socket.on('data', () => {})
socket.on('end', () => { socket.destroy() })
`

/**
 * Sends `bytes` over a plain TCP connection from node `from` to node `to` (two Node processes in
 * the namespaces) and returns the rate in MB/s (10^6 bytes) as the receiver saw it: what the shaped
 * link carries, the baseline of every LAN figure.
 */
export async function measureTcpRate (lan: NetnsLan, from: number, to: number, bytes: number, execPath = process.execPath): Promise<number> {
  const port = '5201'
  const sink = lan.spawn(to, execPath, ['-e', TCP_SINK, lan.nodes[to]!.address, String(bytes), port], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  const done = new Promise<number>((resolve, reject) => {
    sink.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /\n([\d.]+)\n/.exec(out)
      if (m !== null) resolve(Number(m[1]))
    })
    sink.once('exit', (code) => { reject(new Error(`the TCP sink exited (${code}) before the transfer ended: ${out}`)) })
  })
  await new Promise<void>((resolve, reject) => {
    const check = (): void => { if (out.includes('listening')) resolve() }
    sink.stdout!.on('data', check)
    sink.once('exit', () => { reject(new Error('the TCP sink exited before listening')) })
  })
  const source = lan.spawn(from, execPath, ['-e', TCP_SOURCE, lan.nodes[to]!.address, port, String(bytes)], { stdio: 'ignore' })
  try {
    const ms = await done
    return bytes / 1e6 / (ms / 1000)
  } finally {
    source.kill('SIGKILL')
    sink.kill('SIGKILL')
  }
}

/** `ip netns exec NS` as a prefix: the command and arguments that run `execPath` inside `ns`. */
export function netnsExec (ns: string, execPath: string): { command: string, args: string[] } {
  return { command: 'ip', args: ['netns', 'exec', ns, execPath] }
}

let netem: boolean | undefined

/** Whether this kernel has the netem qdisc (delay); probed once in a throw-away namespace. */
export function netemAvailable (): boolean {
  if (netem !== undefined) return netem
  const probe = `${NETNS_PREFIX}probe-${randomBytes(3).toString('hex')}`
  if (!run('ip', ['netns', 'add', probe]).ok) return (netem = false)
  try {
    netem = run('ip', ['-n', probe, 'link', 'add', 'pa', 'type', 'veth', 'peer', 'name', 'pb']).ok &&
      run('tc', ['-n', probe, 'qdisc', 'add', 'dev', 'pa', 'root', 'netem', 'delay', '1ms', 'rate', '1gbit']).ok
  } finally {
    run('ip', ['netns', 'delete', probe])
  }
  return netem
}

function run (tool: string, args: readonly string[]): { ok: boolean, error: string } {
  const r = spawnSync(tool, args, { encoding: 'utf8' })
  return { ok: r.status === 0, error: `${r.stderr ?? ''}${r.error?.message ?? ''}`.trim() }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// mDNS discovery, tested only inside two network namespaces this test creates and joins with a
// veth pair, so no multicast ever reaches the machine's real interfaces. Skipped (with a message)
// where namespaces cannot be created.

import { afterAll, describe, expect, it } from 'vitest'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { rm } from 'node:fs/promises'
import { once } from 'node:events'
import { createClients, unary } from '../../node/reapi/clients.js'
import { makeTempDir } from '../helpers/node.js'
import { NODE_BIN, PEERCAS_ENTRY, REPO_ROOT } from '../helpers/process.js'
import { TEST_PSK_FILE, waitFor } from '../helpers/p2p-nodes.js'

const suffix = randomBytes(3).toString('hex')
const namespaces = [`pcas-${suffix}-a`, `pcas-${suffix}-b`]
const addresses = ['10.231.77.1', '10.231.77.2']

function ip (...args: string[]): { ok: boolean, error: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' })
  return { ok: r.status === 0, error: `${r.stderr ?? ''}${r.error?.message ?? ''}` }
}

/** Creates the namespaces and the veth link; returns why not, or undefined on success. */
function setUp (): string | undefined {
  const first = ip('netns', 'add', namespaces[0]!)
  if (!first.ok) return `ip netns add is not permitted here (${first.error.trim()})`
  const steps: string[][] = [
    ['netns', 'add', namespaces[1]!],
    ['link', 'add', `va${suffix}`, 'type', 'veth', 'peer', 'name', `vb${suffix}`],
    ['link', 'set', `va${suffix}`, 'netns', namespaces[0]!],
    ['link', 'set', `vb${suffix}`, 'netns', namespaces[1]!]
  ]
  for (const [i, ns] of namespaces.entries()) {
    const dev = i === 0 ? `va${suffix}` : `vb${suffix}`
    steps.push(['-n', ns, 'addr', 'add', `${addresses[i]}/24`, 'dev', dev], ['-n', ns, 'link', 'set', dev, 'up'], ['-n', ns, 'link', 'set', 'lo', 'up'], ['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev])
  }
  for (const step of steps) {
    const r = ip(...step)
    if (!r.ok) return `ip ${step.join(' ')} failed (${r.error.trim()})`
  }
  return undefined
}

const skipReason = setUp()
// Whatever happens to the suite (filtered, failed, interrupted), the namespaces go.
process.once('exit', () => { for (const ns of namespaces) ip('netns', 'delete', ns) })
if (skipReason !== undefined) {
  console.warn(`[mdns netns] SKIPPED: ${skipReason}`)
  for (const ns of namespaces) ip('netns', 'delete', ns)
}

describe.skipIf(skipReason !== undefined)('mDNS discovery between two network namespaces', () => {
  const children: ChildProcess[] = []
  const dirs: string[] = []
  afterAll(async () => {
    for (const child of children) { child.kill('SIGKILL'); if (child.exitCode === null) await once(child, 'exit').catch(() => {}) }
    for (const ns of namespaces) ip('netns', 'delete', ns)
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('finds the other node with mDNS and connects to it', async () => {
    for (const [i, ns] of namespaces.entries()) {
      const dir = await makeTempDir('peercas-mdns-')
      dirs.push(dir)
      const child = spawn('ip', ['netns', 'exec', ns, NODE_BIN, ...PEERCAS_ENTRY, 'serve', '--data-dir', dir, '--p2p-listen', `/ip4/${addresses[i]}/tcp/0`, '--psk', TEST_PSK_FILE], {
        cwd: REPO_ROOT, env: { ...process.env, PEERCAS_P2P_MDNS: 'true' }, stdio: 'ignore'
      })
      children.push(child)
    }
    const clients = dirs.map((dir) => createClients(`unix:${join(dir, 'cas.sock')}`))
    try {
      await waitFor(async () => {
        for (const c of clients) {
          const status = await unary(c.admin.GetStatus.bind(c.admin), {}).catch(() => undefined)
          if (status === undefined || !status.peers.some((p) => p.connected)) return false
        }
        return true
      }, 'both nodes to discover each other', 30_000)
      const status = await unary(clients[0]!.admin.GetStatus.bind(clients[0]!.admin), {})
      expect(status.peers[0]!.addresses.join(' ')).toContain(addresses[1])
    } finally {
      for (const c of clients) c.close()
    }
  }, 60_000)
})

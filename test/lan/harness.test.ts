// The shaped namespace LAN itself: links carry what their profile says, and nothing is left behind.
import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { LAN_PROFILE, VPN_PROFILE, lanSkipReason, measureTcpRate, startLan, type NetnsLan } from '../helpers/lan.js'

const skip = lanSkipReason()

function namespaces (): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n !== '')
}

describe.skipIf(skip !== undefined)('a LAN of network namespaces', () => {
  const lans: NetnsLan[] = []
  afterAll(async () => { for (const lan of lans) await lan.destroy() })

  it('carries a TCP transfer at about the shaped 1 Gbit/s', async () => {
    const lan = await startLan({ nodes: 2, profile: LAN_PROFILE })
    lans.push(lan)
    const mbps = await measureTcpRate(lan, 0, 1, 100_000_000)
    // 1 Gbit/s is 125 MB/s on the wire; TCP/IP headers take ~3 %. A loaded machine may fall short.
    expect(mbps).toBeLessThan(125 * 1.02)
    expect(mbps).toBeGreaterThan(125 * 0.5)
  }, 60_000)

  it('carries the VPN profile at about 100 Mbit/s, with its 20 ms round trip where netem exists', async () => {
    const lan = await startLan({ nodes: 2, profile: VPN_PROFILE })
    lans.push(lan)
    const mbps = await measureTcpRate(lan, 1, 0, 25_000_000)
    expect(mbps).toBeLessThan(12.5 * 1.02)
    expect(mbps).toBeGreaterThan(12.5 * 0.6)
    if (!lan.delayEmulated) { console.warn('[lan] this kernel has no netem: links are rate-shaped only (no added delay)'); return }
    const ping = lan.spawn(0, 'ping', ['-c', '3', '-i', '0.2', lan.nodes[1]!.address], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    ping.stdout!.on('data', (c: Buffer) => { out += c.toString() })
    await new Promise((resolve) => ping.once('exit', resolve))
    const avg = Number(/= [\d.]+\/([\d.]+)\//.exec(out)?.[1])
    expect(avg).toBeGreaterThan(19)
    expect(avg).toBeLessThan(40)
  }, 60_000)

  it('removes every namespace it created', async () => {
    const lan = await startLan({ nodes: 3 })
    const mine = lan.nodes.map((n) => n.ns)
    expect(namespaces()).toEqual(expect.arrayContaining(mine))
    await lan.destroy()
    expect(namespaces().filter((n) => mine.includes(n) || n.startsWith(mine[0]!.slice(0, -2)))).toEqual([])
  }, 60_000)
})

// The namespace LAN of bench/lib/netns.ts for tests: skip reasons and clean-up that runs even when
// a test file dies halfway (its namespaces carry this process's pid, so a later run sweeps them).
import { startPeercas, type PeercasProcess } from '../../bench/lib/peercas-process.js'
import { createLan, netnsUnavailableReason, sweepStaleNamespaces, type CreateLanInit, type NetnsLan } from '../../bench/lib/netns.js'
import { TEST_PSK_FILE } from './team-key.js'

export type { PeercasProcess } from '../../bench/lib/peercas-process.js'
export { LAN_PROFILE, VPN_PROFILE, measureTcpRate, type LanNode, type LinkProfile, type NetnsLan } from '../../bench/lib/netns.js'

const live = new Set<NetnsLan>()
let hooked = false

/** Why LAN tests cannot run here (printed with the skip), or `undefined`. Sweeps stale namespaces first. */
export function lanSkipReason (): string | undefined {
  sweepStaleNamespaces()
  const reason = netnsUnavailableReason()
  if (reason !== undefined) console.warn(`[lan] SKIPPED: ${reason}`)
  return reason
}

/** {@link createLan}, remembered so that process exit removes it if the test's own clean-up did not run. */
export async function startLan (init: CreateLanInit): Promise<NetnsLan> {
  if (!hooked) {
    hooked = true
    process.once('exit', () => { for (const lan of live) void lan.destroy() })
  }
  const lan = await createLan(init)
  live.add(lan)
  const destroy = lan.destroy
  return { nodes: lan.nodes, profile: lan.profile, delayEmulated: lan.delayEmulated, spawn: lan.spawn, destroy: async () => { live.delete(lan); await destroy() } }
}

/** The fixed libp2p port of every node in a LAN (each namespace has its own ports). */
export const LAN_P2P_PORT = 4001

/** The multiaddr of node `index`'s libp2p listener. */
export function lanP2pAddress (lan: NetnsLan, index: number, node?: { peerId?: string }): string {
  const address = `/ip4/${lan.nodes[index]!.address}/tcp/${LAN_P2P_PORT}`
  return node?.peerId === undefined ? address : `${address}/p2p/${node.peerId}`
}

/**
 * Starts `peercas serve` inside node `index`'s namespace (mDNS off, p2p on its LAN address,
 * `peers` as static peers); its gRPC socket is in `dataDir`, reachable from the test.
 */
export async function startLanPeercas (lan: NetnsLan, index: number, init: { dataDir: string, peers?: string[], env?: NodeJS.ProcessEnv, args?: string[] }): Promise<PeercasProcess> {
  return await startPeercas({
    dataDir: init.dataDir,
    p2p: true,
    // Behind the test team key, as every p2p test node runs.
    psk: TEST_PSK_FILE,
    netns: lan.nodes[index]!.ns,
    p2pListen: lanP2pAddress(lan, index),
    env: init.env,
    args: [...(init.peers ?? []).flatMap((p) => ['--peer', p]), ...(init.args ?? [])]
  })
}

// Peer fetches over a shaped LAN instead of loopback: every node in its own network namespace,
// joined to a bridge by a veth link shaped with tc (bench/lib/netns.ts). The baseline of each
// figure is a plain TCP transfer over the same link in the same run.
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { profileArgs, type BenchCase, type BenchContext, type Figure } from '../lib/case.js'
import { createLan, LAN_PROFILE, measureTcpRate, netnsUnavailableReason, VPN_PROFILE, type LinkProfile, type NetnsLan } from '../lib/netns.js'
import { startPeercas, type PeercasProcess } from '../lib/peercas-process.js'
import { startWorker, type WorkerHandle } from '../lib/worker.js'
import { best, mbPerSecond, round } from '../lib/stats.js'
import type { Digest } from '../../node/store/digest.js'
import { benchTeamKey } from '../lib/team-key.js'

/** libp2p port of every node (each namespace has its own ports). */
const PORT = 4001

function address (lan: NetnsLan, index: number): string {
  return `/ip4/${lan.nodes[index]!.address}/tcp/${PORT}`
}

function nullAll (keys: readonly string[], note: string): Record<string, Figure> {
  return Object.fromEntries(keys.map((key) => [key, { value: null, note }]))
}

function describe (profile: LinkProfile, lan: NetnsLan): string {
  return `${profile.rateMbit} Mbit/s${lan.delayEmulated ? `, ${profile.rttMs} ms RTT` : ' (rate only: no netem in this kernel, so no added delay)'}`
}

/** Starts `peercas serve` in node `index`'s namespace on `dataDir`, listening on its LAN address. */
async function serveIn (lan: NetnsLan, index: number, dataDir: string, psk: string): Promise<PeercasProcess> {
  return await startPeercas({ dataDir, p2p: true, psk, netns: lan.nodes[index]!.ns, p2pListen: address(lan, index), maxSize: '8GiB' })
}

/** The full multiaddr of a node served in the LAN (static peers need the /p2p/ID). */
function peerAddress (lan: NetnsLan, index: number, node: PeercasProcess): string {
  return `${address(lan, index)}/p2p/${node.peerId!}`
}

/** Best of two raw TCP transfers from node `from` to node `to`, MB/s. */
async function linkRate (lan: NetnsLan, from: number, to: number, bytes: number): Promise<number> {
  return best([await measureTcpRate(lan, from, to, bytes), await measureTcpRate(lan, from, to, bytes)])
}

/** A raw libp2p stream (TCP + Noise + Yamux) of `bytes` from node `from` to node `to`, MB/s (bench/workers/libp2p-raw.ts). */
async function rawLibp2pRate (lan: NetnsLan, from: number, to: number, bytes: number): Promise<number> {
  const sender = await startWorker('libp2p-raw', { netns: lan.nodes[from]!.ns })
  const receiver = await startWorker('libp2p-raw', { netns: lan.nodes[to]!.ns })
  try {
    const { address } = await sender.call<{ address: string }>('listen', { prefill: bytes, listen: `/ip4/${lan.nodes[from]!.address}/tcp/0` })
    const { ms } = await receiver.call<{ ms: number }>('fetch', { address, bytes, listen: `/ip4/${lan.nodes[to]!.address}/tcp/0` })
    return mbPerSecond(bytes, ms)
  } finally {
    for (const w of [sender, receiver]) { await w.call('close').catch(() => {}); await w.stop() }
  }
}

const LAN_KEYS = ['lan_peer_fetch_vs_link', 'lan_two_peer_speedup', 'vpn_peer_fetch_vs_link', 'lan_text_fetch_vs_link', 'lan_incompressible_zstd_vs_plain'] as const

/**
 * - `lan_peer_fetch_vs_link`: a fresh node fetches a random blob from one `peercas serve` peer over
 *   a 1 Gbit/s link; its rate over the raw TCP rate of the same link.
 * - `lan_two_peer_speedup`: the same blob from two peers, each behind its own link, over from one.
 * - `vpn_peer_fetch_vs_link`: as the first, over the 100 Mbit/s VPN profile.
 * - `lan_text_fetch_vs_link`: compressible text (zstd on the wire), restored bytes per second over
 *   the link rate. `lan_incompressible_zstd_vs_plain`: the random blob with compression on (the
 *   server's sample says no) over with it off, so ≥ 1 means never slower.
 * The fetcher is a p2p node in a worker process in its own namespace (bench/workers/p2p-fetcher.ts,
 * fresh store per run); the clock covers PeerFetcher.fetchInto (verify + store).
 */
export const lanCase: BenchCase = {
  name: 'lan',
  keys: LAN_KEYS,
  async run (ctx): Promise<Record<string, Figure>> {
    // Every host behind one team key, as users run p2p.
    const key = await benchTeamKey(ctx.tmpDir)
    const reason = netnsUnavailableReason()
    if (reason !== undefined) return nullAll(LAN_KEYS, `network namespaces are not available: ${reason}`)
    const bytes = ctx.quick ? 64_000_000 : 200_000_000
    const vpnBytes = ctx.quick ? 16_000_000 : 50_000_000
    const runs = ctx.quick ? 2 : 3
    const dirs = [join(ctx.tmpDir, 'peer-a'), join(ctx.tmpDir, 'peer-b')]
    for (const dir of dirs) await mkdir(dir, { recursive: true })
    const seeder = await startWorker('p2p-fetcher')
    let random: Digest
    let text: Digest
    let small: Digest
    try {
      [random, small] = (await seeder.call<{ digests: Digest[] }>('seed', { dirs, sizes: [bytes, vpnBytes] })).digests as [Digest, Digest]
      text = (await seeder.call<{ digests: Digest[] }>('seed', { dirs, sizes: [bytes], text: true })).digests[0]!
    } finally {
      await seeder.stop()
    }
    const detail: Record<string, unknown> = { bytes, vpnBytes, runs }
    const out: Record<string, Figure> = {}

    // 1 Gbit/s: peers A (ns 0) and B (ns 1), the fetcher in ns 2.
    let lan = await createLan({ nodes: 3, profile: LAN_PROFILE })
    let peers: PeercasProcess[] = []
    let fetcher: WorkerHandle | undefined
    try {
      peers = [await serveIn(lan, 0, dirs[0]!, key.file), await serveIn(lan, 1, dirs[1]!, key.file)]
      fetcher = await startWorker('p2p-fetcher', { netns: lan.nodes[2]!.ns, execArgv: profileArgs(ctx, 'lan-fetcher') })
      const link = await linkRate(lan, 0, 2, 100_000_000)
      const rawP2p = await rawLibp2pRate(lan, 1, 2, bytes)
      ctx.log(`  LAN ${describe(LAN_PROFILE, lan)}: raw TCP ${round(link, 1)} MB/s, raw libp2p stream (Noise + Yamux, bytes from memory, dropped) ${round(rawP2p, 1)} MB/s`)
      detail.rawLibp2pMBps = round(rawP2p, 1)
      const fetch = async (from: number[], digest: Digest, p2p: Record<string, unknown> = {}): Promise<number> => {
        const { ms } = await fetcher!.call<{ ms: number[] }>('fetch', { peers: from.map((i) => peerAddress(lan, i, peers[i]!)), digests: [digest], p2p: { listen: [`/ip4/${lan.nodes[2]!.address}/tcp/0`], psk: key.file, ...p2p } })
        return mbPerSecond(digest.sizeBytes, ms[0]!)
      }
      const one: number[] = []
      const two: number[] = []
      const textRates: number[] = []
      const plainRates: number[] = []
      for (let r = 0; r < runs; r++) {
        one.push(await fetch([0], random))
        two.push(await fetch([0, 1], random))
        textRates.push(await fetch([0], text))
        plainRates.push(await fetch([0], random, { compression: 'off' }))
        ctx.log(`  run ${r + 1}/${runs}: 1 peer ${round(one.at(-1)!, 1)}, 2 peers ${round(two.at(-1)!, 1)}, text ${round(textRates.at(-1)!, 1)}, random with compression off ${round(plainRates.at(-1)!, 1)} MB/s`)
      }
      Object.assign(detail, { linkMBps: round(link, 1), onePeerMBps: one.map((x) => round(x, 1)), twoPeersMBps: two.map((x) => round(x, 1)), textMBps: textRates.map((x) => round(x, 1)), randomPlainMBps: plainRates.map((x) => round(x, 1)) })
      const size = `${bytes / 1e6} MB`
      out.lan_peer_fetch_vs_link = { value: round(best(one) / link), note: `${size} random blob, ${describe(LAN_PROFILE, lan)}: ${round(best(one), 0)} MB/s vs raw TCP ${round(link, 0)} MB/s (a raw libp2p stream: ${round(rawP2p, 0)} MB/s), best of ${runs}` }
      out.lan_two_peer_speedup = { value: round(best(two) / best(one)), note: `${size}, each peer behind its own link: ${round(best(one), 0)} → ${round(best(two), 0)} MB/s (pieces from both)` }
      out.lan_text_fetch_vs_link = { value: round(best(textRates) / link), note: `${size} of code-like text (zstd -1 ≈ 2.7×): ${round(best(textRates), 0)} MB/s restored vs raw TCP ${round(link, 0)} MB/s` }
      out.lan_incompressible_zstd_vs_plain = { value: round(best(one) / best(plainRates)), note: `random blob with compression on (sample says no) ${round(best(one), 0)} vs off ${round(best(plainRates), 0)} MB/s` }
    } finally {
      await fetcher?.stop()
      for (const p of peers) await p.stop()
      await lan.destroy()
    }

    // 100 Mbit/s VPN: peer A (ns 0), the fetcher in ns 1.
    lan = await createLan({ nodes: 2, profile: VPN_PROFILE })
    peers = []
    fetcher = undefined
    try {
      peers = [await serveIn(lan, 0, dirs[0]!, key.file)]
      fetcher = await startWorker('p2p-fetcher', { netns: lan.nodes[1]!.ns })
      const link = await linkRate(lan, 0, 1, 20_000_000)
      const rates: number[] = []
      for (let r = 0; r < runs; r++) {
        const { ms } = await fetcher.call<{ ms: number[] }>('fetch', { peers: [peerAddress(lan, 0, peers[0]!)], digests: [small], p2p: { listen: [`/ip4/${lan.nodes[1]!.address}/tcp/0`], psk: key.file } })
        rates.push(mbPerSecond(small.sizeBytes, ms[0]!))
      }
      ctx.log(`  VPN ${describe(VPN_PROFILE, lan)}: raw TCP ${round(link, 1)} MB/s, peer fetch ${rates.map((x) => round(x, 1)).join(', ')} MB/s`)
      Object.assign(detail, { vpnLinkMBps: round(link, 1), vpnMBps: rates.map((x) => round(x, 1)) })
      out.vpn_peer_fetch_vs_link = { value: round(best(rates) / link), note: `${vpnBytes / 1e6} MB random blob, ${describe(VPN_PROFILE, lan)}: ${round(best(rates), 1)} vs raw TCP ${round(link, 1)} MB/s` }
    } finally {
      await fetcher?.stop()
      for (const p of peers) await p.stop()
      await lan.destroy()
    }
    ctx.detail.lan = detail
    return out
  }
}

/** Fetching nodes of the herd. */
const HERD = 8

const HERD_KEYS = ['herd_8_vs_single', 'herd_8_vs_single_100mbit'] as const

/**
 * `herd_8_vs_single`: eight fresh nodes (each in its own namespace, p2p nodes in worker processes,
 * connected as a LAN full mesh) fetch the same blob at the same moment from one `peercas serve`
 * holder; every link is 1 Gbit/s, so every node's upload is capped. The time until the last one
 * has it verified and stored, over the time one node alone takes on the same LAN.
 * `herd_8_vs_single_100mbit`: the same with 100 Mbit/s links, where the links and not this
 * machine's two cores (nine node processes share them) are the limit.
 */
export const herdCase: BenchCase = {
  name: 'herd',
  keys: HERD_KEYS,
  async run (ctx): Promise<Record<string, Figure>> {
    const reason = netnsUnavailableReason()
    if (reason !== undefined) return nullAll(HERD_KEYS, `network namespaces are not available: ${reason}`)
    const bytes = ctx.quick ? 64 * 1024 * 1024 : 256 * 1024 * 1024
    const slowBytes = ctx.quick ? 32 * 1024 * 1024 : 128 * 1024 * 1024
    const runs = ctx.quick ? 1 : 2
    const holderDir = join(ctx.tmpDir, 'holder')
    await mkdir(holderDir, { recursive: true })
    const seeder = await startWorker('p2p-fetcher')
    let digests: Digest[]
    try {
      digests = (await seeder.call<{ digests: Digest[] }>('seed', { dirs: [holderDir], sizes: [bytes, slowBytes] })).digests
    } finally {
      await seeder.stop()
    }
    const fast = await herdOn(ctx, LAN_PROFILE, holderDir, digests[0]!, runs)
    const slow = await herdOn(ctx, { name: 'lan-100', rateMbit: 100, rttMs: 0.3 }, holderDir, digests[1]!, 1)
    ctx.detail.herd = { runs, gigabit: fast.detail, megabit100: slow.detail }
    return { herd_8_vs_single: fast.figure, herd_8_vs_single_100mbit: slow.figure }
  }
}

/** One herd measurement on a fresh LAN of `profile`: one fetch alone, then eight at once (best of `runs`). */
export async function herdOn (ctx: BenchContext, profile: LinkProfile, holderDir: string, digest: Digest, runs: number): Promise<{ figure: Figure, detail: Record<string, unknown> }> {
  const lan = await createLan({ nodes: HERD + 1, profile })
  let holder: PeercasProcess | undefined
  const workers: WorkerHandle[] = []
  try {
    const key = await benchTeamKey(ctx.tmpDir)
    holder = await serveIn(lan, 0, holderDir, key.file)
    for (let i = 1; i <= HERD; i++) workers.push(await startWorker('p2p-fetcher', { netns: lan.nodes[i]!.ns }))
    const link = await measureTcpRate(lan, 0, 1, Math.min(100_000_000, digest.sizeBytes))
    const startNode = async (w: WorkerHandle, i: number): Promise<void> => {
      await w.call('start', { p2p: { listen: [address(lan, i + 1)], peers: [peerAddress(lan, 0, holder!)], psk: key.file } })
    }
    const singles: number[] = []
    const herds: number[] = []
    for (let r = 0; r < runs; r++) {
      await startNode(workers[0]!, 0)
      await workers[0]!.call('waitCandidates', { digest, count: 1 })
      singles.push((await workers[0]!.call<{ ms: number }>('fetchOne', { digest })).ms)
      await workers[0]!.call('stopNode')
      await Promise.all(workers.map(async (w, i) => { await startNode(w, i) }))
      // A LAN full mesh (mDNS would connect them too).
      await Promise.all(workers.map(async (w, i) => {
        await w.call('connect', { addresses: workers.slice(i + 1).map((_, j) => address(lan, i + j + 2)) })
      }))
      await Promise.all(workers.map(async (w) => { await w.call('waitCandidates', { digest, count: 1 }) }))
      const started = performance.now()
      const each = await Promise.all(workers.map(async (w) => (await w.call<{ ms: number }>('fetchOne', { digest })).ms))
      herds.push(performance.now() - started)
      await Promise.all(workers.map(async (w) => { await w.call('stopNode') }))
      ctx.log(`  ${profile.rateMbit} Mbit/s, run ${r + 1}/${runs}: one node alone ${round(singles.at(-1)! / 1000, 2)} s; ${HERD} at once: last done after ${round(herds.at(-1)! / 1000, 2)} s (each: ${each.map((ms) => round(ms / 1000, 1)).join(', ')} s)`)
    }
    const single = Math.min(...singles)
    const herd = Math.min(...herds)
    return {
      figure: { value: round(herd / single), note: `${digest.sizeBytes / 2 ** 20} MiB, ${HERD} fetchers + 1 holder, ${describe(profile, lan)} per node (raw TCP ${round(link, 0)} MB/s): one alone ${round(single / 1000, 2)} s (${round(mbPerSecond(digest.sizeBytes, single), 0)} MB/s), all ${HERD} ${round(herd / 1000, 2)} s (a star would need ≈ ${HERD}× one); best of ${runs}; ${HERD + 1} node processes share this machine's cores` },
      detail: { bytes: digest.sizeBytes, linkMBps: round(link, 1), singleMs: singles.map((x) => Math.round(x)), herdMs: herds.map((x) => Math.round(x)) }
    }
  } finally {
    for (const w of workers) await w.stop().catch(() => {})
    await holder?.stop()
    await lan.destroy()
  }
}

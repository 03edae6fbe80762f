import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { status } from '@grpc/grpc-js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { byteStreamRead, createClients, unary, type ReapiClients } from '../../node/reapi/clients.js'
import { reapi } from '../../node/reapi/protos.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { createHost, type Host } from '../../node/p2p/host.js'
import { AVAILABILITY_PROTOCOL, FETCH_PROTOCOL, FETCH_STREAM_PROTOCOL } from '../../node/p2p/constants.js'
import { frame } from '../../node/p2p/framing.js'
import { messages } from '../../node/p2p/messages.js'
import { toBlobRef } from '../../node/p2p/cid.js'
import { silentLogger } from '../../node/log/logger.js'
import { putBlobs, startBarePeer, TEST_PSK_FILE, waitFor, type BarePeer } from '../helpers/p2p-nodes.js'
import { makeTempDir } from '../helpers/node.js'
import { runPeercas, type PeercasProcess } from '../helpers/process.js'
import { writeBlobs } from '../helpers/remote-blobs.js'
import { startRawPeer, type RawPeer } from '../helpers/raw-peer.js'
import { startRawNameServer, type RawNameServer } from '../helpers/raw-name-server.js'
import { expectRpcError } from '../helpers/grpc.js'
import { quantile, rssOf } from '../helpers/load.js'
import { TEST_TEAM_KEY } from '../helpers/team-key.js'

// Every hostile behaviour at once against one node: peers that lie about bytes, claim every blob,
// stall half-way, forge signed action results, flood announcements, open hundreds of streams,
// send giant and truncated frames, and ask for blobs without reading the answer. Meanwhile the
// node must keep serving its local clients and an honest peer within a budget, fetch what only
// peers hold with the right bytes, refuse every forged result, and keep its memory bounded.
// (Each behaviour alone is covered in bad-input, faults, slow-peers, summary-bounds and test/trust.)

/** How long the attacks run. */
const ATTACK_MS = 10_000
/**
 * The most a local call or an honest peer's fetch may take during the attacks. Generous: on a
 * 2-core machine at load 15 the attacks took local calls to ~5 s (see docs/reliability.md).
 */
const CALL_BUDGET_MS = 10_000
/** PEERCAS_HOSTILE_ATTACKS=floods,held runs only those of the raw attacker's loops (to find which one costs). */
const ONLY_ATTACKS = process.env.PEERCAS_HOSTILE_ATTACKS?.split(',')
/** The most memory the node may hold under attack. */
const RSS_BOUND_BYTES = 1024 * 2 ** 20

/** Retries a dial: libp2p limits how fast one address may open inbound connections. */
async function retried<T> (dial: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await dial()
    } catch (error) {
      if (attempt === 10) throw error
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
  }
}

describe('a node under every hostile peer at once', () => {
  let child: PeercasProcess
  let clients: ReapiClients
  let dataDir: string | undefined
  let nodeAddress: string
  let nodePeerId: string
  let honest: BarePeer
  let liar: RawPeer
  let staller: RawPeer
  let braggart: RawPeer
  let asker: RawPeer
  let forger: RawNameServer
  let attacker: Host
  let peerBlobs: Array<{ digest: Digest, data: Buffer }>
  const localBlobs = Array.from({ length: 10 }, () => randomBytes(100_000))
  const peers = async (): Promise<Array<{ peerId: string, connected: boolean, banned: boolean, blobsAdvertised: number, summaryKept: boolean }>> =>
    (await unary(clients.admin.GetStatus.bind(clients.admin), {})).peers.map((p) => ({ peerId: p.peerId, connected: p.connected, banned: p.banned, blobsAdvertised: Number(p.blobsAdvertised), summaryKept: p.summaryKept }))
  const read = async (digest: Digest): Promise<Buffer> => {
    const parts: Buffer[] = []
    for await (const m of byteStreamRead(clients.byteStream, digest)) parts.push(m.data)
    return Buffer.concat(parts)
  }

  beforeAll(async () => {
    // The node runs in its own process, so the attackers' work here does not slow it down.
    dataDir = await makeTempDir('peercas-hostile-')
    const config = join(dataDir, 'peercas.yaml')
    await writeFile(config, 'p2p:\n  fetchTimeout: 3s\n  maxStreamsPerPeer: 8\n  announceInterval: 50ms\n')
    child = runPeercas(['serve', '--data-dir', dataDir, '--config', config, '--psk', TEST_PSK_FILE, '--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--trust-results', 'team', '--log-level', 'error'])
    await child.ready
    clients = createClients(`unix:${join(dataDir, 'cas.sock')}`)
    await writeBlobs(clients, localBlobs.map((data) => ({ digest: digestOf(data), data })))
    const info = await unary(clients.admin.GetStatus.bind(clients.admin), {})
    nodePeerId = info.peerId
    const listed = info.p2pAddresses.find((a) => a.includes('/127.0.0.1/'))!
    nodeAddress = listed.includes('/p2p/') ? listed : `${listed}/p2p/${nodePeerId}`
    const address = nodeAddress
    honest = await startBarePeer({ peers: [address] })
    peerBlobs = await putBlobs(honest, 8, 150_000)
    liar = await startRawPeer({ corrupt: (_d, _o, chunk) => { const c = Uint8Array.from(chunk); c[0] = c[0]! ^ 0xff; return c } })
    staller = await startRawPeer({ stall: true })
    braggart = await startRawPeer({ advertiseEverything: true })
    asker = await startRawPeer()
    const forgedResult = Buffer.from(reapi.ActionResult.serialize({ exitCode: 0, stdoutRaw: Buffer.from('forged') }))
    // Forges: claims the honest peer signed a result, with a signature nobody made.
    forger = await startRawNameServer(() => ({ value: forgedResult, signature: { signer: honest.p2p.peerId, signedAtMs: Date.now(), signature: new Uint8Array(64).fill(7) } }))
    for (const raw of [liar, staller, braggart]) for (const b of peerBlobs) await raw.put(b.data)
    for (const raw of [liar, staller, braggart, asker]) await retried(async () => await raw.dial(address))
    await retried(async () => await forger.host.libp2p.dial(multiaddr(address)))
    attacker = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, staticPeers: [], teamKey: TEST_TEAM_KEY, logger: silentLogger })
    await attacker.start()
    await retried(async () => await attacker.libp2p.dial(multiaddr(address)))
    await waitFor(async () => { const known = await peers(); return [honest.p2p.peerId, liar.peerId, staller.peerId, braggart.peerId].every((id) => known.some((p) => p.peerId === id && p.connected)) }, 'every peer to connect')
    await waitFor(async () => ((await peers()).find((p) => p.peerId === honest.p2p.peerId)?.blobsAdvertised ?? 0) >= peerBlobs.length, 'the honest peer\'s summary')
  })
  afterAll(async () => {
    for (const p of [asker, braggart, staller, liar, forger]) await p?.stop()
    await attacker?.stop()
    await honest?.stop()
    clients?.close()
    if (child !== undefined && child.child.exitCode === null && child.child.signalCode === null) { child.child.kill('SIGKILL'); await child.exited }
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
  })

  it('keeps serving local clients and honest peers within a budget, gets the right bytes, refuses forged results, and stays bounded', async () => {
    const address = multiaddr(nodeAddress)
    const localDigests = localBlobs.map((d) => digestOf(d))
    const probe = async (): Promise<number> => {
      const started = performance.now()
      const d = localDigests[Math.floor(Math.random() * localDigests.length)]!
      await unary(clients.cas.FindMissingBlobs.bind(clients.cas), { blobDigests: [d] })
      const data = await read(d)
      if (!data.equals(localBlobs[localDigests.indexOf(d)]!)) throw new Error('a local read served wrong bytes')
      return performance.now() - started
    }
    const baseline: number[] = []
    for (let i = 0; i < 10; i++) baseline.push(await probe())
    // The attackers share this process with the probe: its own event-loop lag is reported apart.
    const lag = monitorEventLoopDelay({ resolution: 10 })
    lag.enable()
    const rssBefore = await rssOf(child.child.pid!)
    const rss: number[] = []
    const sampler = setInterval(() => { void rssOf(child.child.pid!).then((b) => { rss.push(b) }, () => {}) }, 500)

    let attacking = true
    const floodDelta = frame(messages.availability.encode({ delta: { generation: 1, added: Array.from({ length: 8192 }, () => toBlobRef(digestOf(randomBytes(8)))) } }))
    const counts = { floods: 0, held: 0, giant: 0, truncated: 0, unread: 0, failed: 0 }
    const open = async (protocol: string): Promise<Stream> => await attacker.libp2p.dialProtocol(address, protocol)
    const loop = async (name: keyof typeof counts, attack: () => Promise<void>): Promise<void> => {
      if (ONLY_ATTACKS !== undefined && !ONLY_ATTACKS.includes(name)) return
      while (attacking) {
        try { await attack(); counts[name]++ } catch { counts.failed++ }
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
    const attacks = [
      // A flood of announcements: deltas of 8192 made-up blobs, over and over.
      loop('floods', async () => {
        const s = await open(AVAILABILITY_PROTOCOL)
        s.send(frame(messages.availability.encode({ summaryStart: { version: 1, generation: 1, bits: 512, hashes: 3, blobCount: 0 } })))
        s.send(frame(messages.availability.encode({ summaryPart: { generation: 1, offset: 0, data: new Uint8Array(64) } })))
        for (let i = 0; i < 4 && attacking; i++) if (!s.send(floodDelta)) await s.onDrain()
        s.abort(new Error('next flood'))
      }),
      // Hundreds of streams opened and held without a request.
      loop('held', async () => {
        const held = await Promise.all(Array.from({ length: 200 }, async () => await open(FETCH_STREAM_PROTOCOL).catch(() => undefined)))
        await new Promise((resolve) => setTimeout(resolve, 500))
        for (const s of held) s?.abort(new Error('done holding'))
      }),
      // A frame that announces 100 MiB.
      loop('giant', async () => {
        const s = await open(FETCH_PROTOCOL)
        s.send(Uint8Array.from([0x80, 0x80, 0x80, 0x32, 1, 2, 3]))
        await new Promise((resolve) => setTimeout(resolve, 50))
        s.abort(new Error('done'))
      }),
      // A frame cut short: 1000 bytes announced, 10 sent, then the write side closed.
      loop('truncated', async () => {
        const s = await open(FETCH_PROTOCOL)
        s.send(Uint8Array.from([0xe8, 0x07, ...randomBytes(10)]))
        await s.close().catch(() => {})
      }),
      // Asks for a local blob and never reads the answer (stalls half-way as a reader).
      loop('unread', async () => {
        const s = await open(FETCH_PROTOCOL)
        s.send(frame(messages.fetchRequest.encode({ wants: localDigests.slice(0, 5).map((d) => ({ blob: toBlobRef(d), offset: 0, length: 0 })) })))
        await new Promise((resolve) => setTimeout(resolve, 2000))
        s.abort(new Error('done'))
      })
    ]

    // Under attack: local probes, an honest peer's fetches, reads of blobs only peers hold, forged lookups.
    const probes: number[] = []
    const fetches: number[] = []
    const fetchFailures: string[] = []
    const started = performance.now()
    const probeFailures: string[] = []
    const probing = (async () => {
      while (performance.now() - started < ATTACK_MS) {
        try { probes.push(await probe()) } catch (error) { probeFailures.push((error as Error).message) }
      }
    })()
    const fetching = (async () => {
      while (performance.now() - started < ATTACK_MS) {
        const i = Math.floor(Math.random() * localDigests.length)
        const t = performance.now()
        try {
          const got = await asker.fetchOnce(nodePeerId, localDigests[i]!)
          if (got.header.status !== 'OK' || !got.data.equals(localBlobs[i]!)) fetchFailures.push(`${got.header.status}: ${got.data.byteLength} bytes`)
          else fetches.push(performance.now() - t)
        } catch (error) {
          fetchFailures.push((error as Error).message)
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })()
    const peerReads: number[] = []
    const readFailures: string[] = []
    for (const b of peerBlobs) {
      const t = performance.now()
      try {
        if (!(await read(b.digest)).equals(b.data)) readFailures.push(`wrong bytes for ${b.digest.hash}`)
        else peerReads.push(performance.now() - t)
      } catch (error) {
        readFailures.push(`${(error as Error).message} after ${Math.round(performance.now() - t)} ms`)
      }
    }
    const forgedLookups: number[] = []
    for (let i = 0; i < 5; i++) {
      const t = performance.now()
      await expectRpcError(unary(clients.actionCache.GetActionResult.bind(clients.actionCache), { actionDigest: digestOf(randomBytes(32)) }), status.NOT_FOUND)
      forgedLookups.push(performance.now() - t)
    }
    await Promise.all([probing, fetching])
    attacking = false
    await Promise.all(attacks)
    clearInterval(sampler)
    lag.disable()
    const peersAfter = await peers()

    console.log(`hostile peers: ${JSON.stringify(counts)}; local probe p50 ${quantile(baseline, 0.5).toFixed(1)} ms before, ` + `(test process event-loop lag max ${(lag.max / 1e6).toFixed(0)} ms) ` +
      `p99 ${quantile(probes, 0.99).toFixed(1)} / max ${quantile(probes, 1).toFixed(1)} ms under attack (${probes.length}); ` +
      `honest peer fetch p99 ${quantile(fetches, 0.99).toFixed(1)} / max ${quantile(fetches, 1).toFixed(1)} ms (${fetches.length}); ` +
      `blobs only peers hold: max ${quantile(peerReads, 1).toFixed(0)} ms each; forged lookups max ${quantile(forgedLookups, 1).toFixed(0)} ms; ` +
      `forger asked ${forger.requests.length} times; node RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, max ${(Math.max(...rss) / 2 ** 20).toFixed(0)} MiB under attack; ` +
      `peers afterwards ${JSON.stringify(peersAfter.map((p) => ({ ...p, peerId: [['honest', honest.p2p.peerId], ['liar', liar.peerId], ['staller', staller.peerId], ['braggart', braggart.peerId], ['asker', asker.peerId], ['forger', forger.peerId], ['attacker', attacker.libp2p.peerId.toString()]].find(([, id]) => id === p.peerId)?.[0] ?? p.peerId })))}`)
    for (const f of [...probeFailures, ...fetchFailures, ...readFailures].slice(0, 10)) console.log(`  ${f}`)

    expect(probeFailures).toEqual([])
    // Starved of CPU (a loaded CI machine running other suites beside this one), the node may cut
    // an honest peer's stream now and then: one in ten is tolerated, a node that stops serving is not.
    expect(fetchFailures.length).toBeLessThanOrEqual(Math.floor(fetches.length / 10))
    expect(readFailures).toEqual([])
    expect(quantile(probes, 1)).toBeLessThan(CALL_BUDGET_MS)
    expect(fetches.length).toBeGreaterThan(5)
    expect(quantile(fetches, 1)).toBeLessThan(CALL_BUDGET_MS)
    // A blob only peers hold may cost the liar's and the staller's bounded waits once, not more.
    expect(quantile(peerReads, 1)).toBeLessThan(CALL_BUDGET_MS)
    expect(forger.requests.length).toBeGreaterThan(0)
    expect(Math.max(...rss)).toBeLessThan(RSS_BOUND_BYTES)
    child.child.kill('SIGTERM')
    expect((await child.exited).code).toBe(0)
    if (ONLY_ATTACKS === undefined) expect(counts.floods + counts.held + counts.giant + counts.truncated + counts.unread).toBeGreaterThan(20)
  }, 120_000)
})

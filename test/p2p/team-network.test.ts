import { afterEach, describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLogger, silentLogger, type Logger } from '../../node/log/logger.js'
import { createHost, type Host } from '../../node/p2p/host.js'
import { TEST_TEAM_KEY } from '../helpers/team-key.js'
import { digestOf } from '../../node/store/digest.js'
import { NO_TEAM_KEY_HINT, OPEN_NETWORK_WARNING, readTeamKey, TeamKeyError } from '../../node/p2p/index.js'
import { makeTempDir, startTestNode, type TestNode } from '../helpers/node.js'
import { startP2pTestNode, waitFor, writeTestTeamKey } from '../helpers/p2p-nodes.js'
import { startRawPeer, type RawPeer } from '../helpers/raw-peer.js'

/** A logger that keeps every line a node writes, parsed. */
function recordingLogger (): { logger: Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger('peercas', { level: 'info', write: (line) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
  return { logger, lines }
}

const LOOPBACK_P2P = { enabled: true, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false }

describe('team network (p2p.psk)', () => {
  const cleanup: Array<() => Promise<void>> = []
  afterEach(async () => {
    await Promise.allSettled(cleanup.splice(0).map(async (stop) => { await stop() }))
  })
  async function rawPeer (teamKey?: Uint8Array | null): Promise<RawPeer> {
    const peer = await startRawPeer({ teamKey })
    cleanup.push(async () => { await peer.stop() })
    return peer
  }
  async function holdingNode (options: { trust?: string[] } = {}): Promise<{ node: TestNode & { p2p: NonNullable<TestNode['p2p']> }, lines: Array<Record<string, unknown>>, digest: ReturnType<typeof digestOf> }> {
    const { logger, lines } = recordingLogger()
    const node = await startP2pTestNode({ logger, trust: options.trust })
    cleanup.push(async () => { await node.stop() })
    const data = randomBytes(4096)
    const digest = digestOf(data)
    await node.store.put(digest, data)
    return { node, lines, digest }
  }

  it('serves a host that holds the team key', async () => {
    const { node, digest } = await holdingNode()
    const teammate = await rawPeer()
    expect(await teammate.dial(node.p2p.addresses[0]!)).toBe(node.p2p.peerId)
    const { header } = await teammate.fetchOnce(node.p2p.peerId, digest)
    expect(header.status).toBe('OK')
  })

  it('refuses a host without the team key both ways: no connection, nothing served, the reason logged', async () => {
    const { node, lines, digest } = await holdingNode()
    const outsider = await rawPeer(null)
    await expect(outsider.dial(node.p2p.addresses[0]!)).rejects.toThrow()
    await expect(outsider.fetchOnce(node.p2p.peerId, digest)).rejects.toThrow()
    await waitFor(() => lines.some((l) => l.level === 'warn' && /refused .*team/.test(String(l.msg))), 'the node to log the refusal')
    await expect(node.p2p.dial(outsider.addresses[0]!)).rejects.toThrow()
    expect(outsider.served).toHaveLength(0)
    expect(node.p2p.peers().map((p) => p.peerId)).not.toContain(outsider.peerId)
    expect(outsider.host.libp2p.getConnections()).toHaveLength(0)
  })

  it('refuses a host with a different team key', async () => {
    const { node, lines, digest } = await holdingNode()
    const otherTeam = await rawPeer((await readTeamKey(writeTestTeamKey())).psk)
    await expect(otherTeam.dial(node.p2p.addresses[0]!)).rejects.toThrow()
    await expect(otherTeam.fetchOnce(node.p2p.peerId, digest)).rejects.toThrow()
    await waitFor(() => lines.some((l) => l.level === 'warn' && /refused .*team key/.test(String(l.msg))), 'the node to log the refusal')
    expect(node.p2p.peers().map((p) => p.peerId)).not.toContain(otherTeam.peerId)
  })

  it('with trust.peers set, refuses connections with peers that are not listed, even with the key', async () => {
    const listed = await rawPeer()
    const unlisted = await rawPeer()
    const { node, lines } = await holdingNode({ trust: [listed.peerId] })
    expect(await listed.dial(node.p2p.addresses[0]!)).toBe(node.p2p.peerId)
    // The dialler may finish its side of the upgrade before the node closes the connection.
    await unlisted.dial(node.p2p.addresses[0]!).catch(() => {})
    await waitFor(() => lines.some((l) => /refused an inbound connection: the peer is not in trust.peers/.test(String(l.msg)) && l.peer === unlisted.peerId), 'the node to log the refusal')
    await waitFor(() => unlisted.host.libp2p.getConnections().length === 0, 'the unlisted peer to be disconnected')
    await expect(node.p2p.dial(unlisted.addresses[0]!)).rejects.toThrow()
    expect(unlisted.served).toHaveLength(0)
    expect(node.p2p.peers().map((p) => p.peerId)).toEqual([listed.peerId])
  })

  it('by default (no team key) does not start p2p at all, and says how to turn it on', async () => {
    const { logger, lines } = recordingLogger()
    const node = await startTestNode({ p2p: LOOPBACK_P2P }, { logger })
    cleanup.push(async () => { await node.stop() })
    expect(node.p2p).toBeUndefined()
    expect(node.info.p2p).toBeUndefined()
    expect((await node.status()).p2pAddresses).toEqual([])
    const ready = lines.find((l) => l.msg === 'peercas ready')
    expect(ready?.p2p).toBe(NO_TEAM_KEY_HINT)
    expect(NO_TEAM_KEY_HINT).toMatch(/gen-psk/)
  })

  it('with p2p.open runs an open network (a keyless host connects) and warns', async () => {
    const { logger, lines } = recordingLogger()
    const node = await startTestNode({ p2p: { ...LOOPBACK_P2P, open: true } }, { logger })
    cleanup.push(async () => { await node.stop() })
    expect(lines.some((l) => l.level === 'warn' && l.msg === OPEN_NETWORK_WARNING)).toBe(true)
    const stranger = await rawPeer(null)
    expect(await stranger.dial(node.p2p!.addresses[0]!)).toBe(node.p2p!.peerId)
  })

  it('carries a send far larger than the team-key layer takes at once (no 64 MiB WebAssembly limit)', async () => {
    const hosts = await Promise.all([0, 1].map(async () => await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, staticPeers: [], teamKey: TEST_TEAM_KEY, logger: silentLogger })))
    cleanup.push(async () => { await Promise.all(hosts.map(async (h) => { await h.stop() })) })
    const [sender, receiver] = hosts as [Host, Host]
    const bytes = 80 * 1024 * 1024
    await sender.libp2p.handle('/peercas-test/bulk/1.0.0', async (stream) => {
      // One send: everything the socket cannot take at once queues up in the layers below.
      if (!stream.send(Buffer.alloc(bytes, 7))) await stream.onDrain()
      await stream.close()
    })
    await sender.start()
    await receiver.start()
    const stream = await receiver.libp2p.dialProtocol(sender.libp2p.getMultiaddrs()[0]!, '/peercas-test/bulk/1.0.0')
    let received = 0
    for await (const chunk of stream) received += chunk.byteLength
    expect(received).toBe(bytes)
  })

  it('refuses to start with a team key file that is missing, malformed or of the wrong length, naming the file', async () => {
    const cases = [
      ['missing', join(await makeTempDir(), 'nope.psk'), /cannot read the team key file .*nope\.psk/],
      ['not a key file', writeTestTeamKey('hello\n'), /has 1 lines/],
      ['wrong header', writeTestTeamKey(`/key/swarm/psk/2.0.0/\n/base16/\n${'ab'.repeat(32)}\n`), /does not start with/],
      ['not hex', writeTestTeamKey(`/key/swarm/psk/1.0.0/\n/base16/\n${'zz'.repeat(32)}\n`), /not hex/],
      ['16 bytes', writeTestTeamKey(`/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(16)}\n`), /16 bytes, not 32/]
    ] as const
    for (const [what, file, why] of cases) {
      const dataDir = join(await makeTempDir(), 'data')
      const start = startTestNode({ p2p: { ...LOOPBACK_P2P, psk: file } }, { dataDir })
      await expect(start, what).rejects.toThrow(TeamKeyError)
      await expect(start, what).rejects.toThrow(file)
      await expect(start, what).rejects.toThrow(why)
      // Nothing started: no data dir, no socket.
      expect(existsSync(dataDir), what).toBe(false)
    }
  })
})

import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { byteStreamRead } from '../../node/reapi/clients.js'
import { loadConfig } from '../../node/config/load.js'
import { createLogger, type Logger } from '../../node/log/logger.js'
import { LocalStore } from '../../node/store/local-store.js'
import { startP2p, type P2pService } from '../../node/p2p/index.js'
import { makeTempDir, startTestNode, type TestNode } from './node.js'
import { TEST_PSK_FILE } from './team-key.js'

export { TEST_PSK_FILE, TEST_TEAM_KEY, writeTestTeamKey } from './team-key.js'

/** p2p settings every test node gets: the test team key, loopback only, mDNS off, fast announcements. */
export const TEST_P2P = { enabled: true, psk: TEST_PSK_FILE, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, announceInterval: '50ms' }

/** Options of {@link startP2pTestNode}. */
export interface P2pTestNodeOptions {
  /** Static peers (multiaddrs). */
  peers?: string[]
  /** Peer IDs trusted for named results (`trust.peers`). */
  trust?: string[]
  /** `trust.results`. @default 'listed' */
  results?: 'none' | 'listed' | 'team'
  /** `trust.revoked`. */
  revoked?: string[]
  /** Other `p2p` config keys. */
  p2p?: Record<string, unknown>
  /** Other top-level config keys. */
  flags?: Record<string, unknown>
  dataDir?: string
  keepData?: boolean
  /** Receives the node's log lines. */
  logger?: Logger
}

/** Starts a full node (gRPC + p2p) on loopback. */
export async function startP2pTestNode (options: P2pTestNodeOptions = {}): Promise<TestNode & { p2p: P2pService }> {
  const node = await startTestNode({
    ...options.flags,
    p2p: { ...TEST_P2P, peers: options.peers ?? [], ...options.p2p },
    trust: { peers: options.trust ?? [], results: options.results, revoked: options.revoked }
  }, { dataDir: options.dataDir, keepData: options.keepData, logger: options.logger })
  if (node.p2p === undefined) throw new Error('p2p did not start')
  return node as TestNode & { p2p: P2pService }
}

/** A bare p2p peer (store + libp2p, no gRPC). Misbehaving peers are raw hosts: see raw-peer.ts. */
export interface BarePeer {
  store: LocalStore
  p2p: P2pService
  stop(): Promise<void>
}

/** Starts a bare p2p peer on loopback with its own temp store. */
export async function startBarePeer (options: { peers?: string[], trust?: string[], p2p?: Record<string, unknown>, recentProtectionMs?: number } = {}): Promise<BarePeer> {
  const dataDir = await makeTempDir('peercas-peer-')
  const config = loadConfig({ env: {}, flags: { dataDir, p2p: { ...TEST_P2P, peers: options.peers ?? [], ...options.p2p }, trust: { peers: options.trust ?? [] } } })
  const logger = createLogger('peer', { level: process.env.PEERCAS_TEST_LOG === '1' ? 'debug' : 'error' })
  const store = await LocalStore.open({ dataDir, maxSizeBytes: config.maxSize, logger, recentProtectionMs: options.recentProtectionMs })
  const p2p = await startP2p({ config, store, logger })
  if (p2p === undefined) throw new Error('p2p did not start')
  return {
    store,
    p2p,
    async stop () {
      await p2p.stop()
      await store.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

export { waitFor } from './wait.js'

/** Puts `count` random blobs of `size` bytes into `peer`'s store; returns them. */
export async function putBlobs (peer: BarePeer, count: number, size: number): Promise<Array<{ digest: Digest, data: Buffer }>> {
  const blobs: Array<{ digest: Digest, data: Buffer }> = []
  for (let i = 0; i < count; i++) {
    const data = randomBytes(size)
    const digest = digestOf(data)
    await peer.store.put(digest, data)
    blobs.push({ digest, data })
  }
  return blobs
}

/** Reads a whole blob through a node's ByteStream.Read (works for any size). */
export async function readBlob (node: TestNode, digest: { hash: string, sizeBytes: number }): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const response of byteStreamRead(node.clients.byteStream, digest)) parts.push(response.data)
  return Buffer.concat(parts)
}

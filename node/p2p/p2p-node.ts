import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import type { PeerStatus__Output as PeerStatus } from '../generated/peercas/admin/v1/PeerStatus.js'
import type { SyncProgress } from '../generated/peercas/admin/v1/SyncProgress.js'
import type { Digest } from '../store/digest.js'
import type { Logger } from '../log/logger.js'
import { NameLookupProtocol } from './name-lookups.js'
import { Availability } from './availability.js'
import { FetchClient } from './fetch-client.js'
import { FetchServer } from './fetch-server.js'
import { createHost, type Host, type StaticPeerState } from './host.js'
import { loadOrCreateIdentity } from './identity.js'
import { ResultSigner } from '../trust/signatures.js'
import { TrustPolicy } from '../trust/policy.js'
import { ListProtocol } from './list.js'
import { TokenBucket } from '../limits/index.js'
import { PeerBook } from './peer-book.js'
import { PeerFetcher } from './peer-fetcher.js'
import { syncFromPeer } from './sync.js'
import { PieceProtocol } from './pieces.js'
import { SwarmRegistry } from './swarm.js'
import { SwarmFetcher } from './swarm-fetch.js'
import { SWARM_ANSWER_TIMEOUT_MS } from './constants.js'
import { join } from 'node:path'
import type { P2pComponents, P2pService, SyncOptions } from './index.js'

/** Blob size at which peers are compared when choosing whose summaries to keep. */
const TYPICAL_BLOB_BYTES = 1024 * 1024

/**
 * The assembled p2p layer: host, availability gossip, fetch server and client, action-result
 * lookups, listing for sync, and the per-peer book.
 */
export class P2pNode implements P2pService {
  readonly peerId: string
  readonly blobFetcher: PeerFetcher
  readonly nameFetcher: NameLookupProtocol
  private readonly log: Logger

  private constructor (
    private readonly components: P2pComponents,
    private readonly host: Host,
    private readonly availability: Availability,
    private readonly book: PeerBook,
    /** The fetch client (stream pool); exposed for tests and diagnostics. */
    readonly fetchClient: FetchClient,
    /** The fetch server; exposed for tests and diagnostics. */
    readonly fetchServer: FetchServer,
    private readonly list: ListProtocol,
    lookups: NameLookupProtocol,
    fetcher: PeerFetcher,
    private readonly signer: ResultSigner
  ) {
    this.peerId = host.libp2p.peerId.toString()
    this.blobFetcher = fetcher
    this.nameFetcher = lookups
    this.log = components.logger
  }

  /** Creates and starts everything; protocol handlers are in place before the first connection. */
  static async start (components: P2pComponents): Promise<P2pNode> {
    const { config, store, logger } = components
    const p2p = config.p2p
    const privateKey = await loadOrCreateIdentity(config.dataDir)
    const signer = components.signer ?? new ResultSigner(privateKey)
    const policy = components.policy ?? new TrustPolicy({ mode: config.trust.results, listed: config.trust.peers, revoked: config.trust.revoked, self: signer.peerId })
    const host = await createHost({
      privateKey,
      listen: p2p.listen,
      mdns: p2p.mdns,
      staticPeers: p2p.peers,
      teamKey: components.teamKey?.psk,
      allowedPeers: config.trust.peers.length > 0 ? config.trust.peers : undefined,
      logger: logger.child('host')
    })
    try {
      const libp2p = host.libp2p
      const stallTimeoutMs = p2p.fetchTimeout
      const book = new PeerBook({ maxStreamsPerPeer: p2p.maxStreamsPerPeer, maxServeRatePerPeer: p2p.maxServeRatePerPeer })
      const availability = new Availability({
        libp2p,
        store,
        logger: logger.child('avail'),
        announceIntervalMs: p2p.announceInterval,
        resummarizeIntervalMs: p2p.resummarizeInterval,
        peerCost: (peer) => book.isBanned(peer) ? Infinity : book.expectedMs(peer, TYPICAL_BLOB_BYTES),
        maxSummaryPeers: p2p.maxSummaryPeers
      })
      // Fetch answers and blobs inlined in action-result answers share the node's serve rate.
      const serveRate = new TokenBucket(p2p.maxServeRate)
      // Large blobs being fetched from a swarm: their verified pieces are served onwards.
      const swarmRegistry = new SwarmRegistry({ store, tempDir: join(config.dataDir, 'swarm-tmp') })
      await swarmRegistry.start()
      components.shutdown?.addEventListener('abort', () => { void swarmRegistry.close() }, { once: true })
      const server = new FetchServer({ libp2p, store, book, logger: logger.child('fetch'), maxStreams: p2p.maxStreams, maxStreamsPerPeer: p2p.maxStreamsPerPeer, maxServeRate: p2p.maxServeRate, rate: serveRate, stallTimeoutMs, compression: p2p.compression === 'zstd', partials: swarmRegistry })
      const client = new FetchClient({ libp2p, book, logger: logger.child('fetch'), stallTimeoutMs, maxStreamsPerPeer: p2p.maxStreamsPerPeer, compression: p2p.compression === 'zstd' })
      const lookups = new NameLookupProtocol({ libp2p, store, logger: logger.child('ac'), policy, stallTimeoutMs, book, serveRate })
      const list = new ListProtocol({ libp2p, store, logger: logger.child('list'), stallTimeoutMs })
      const pieces = new PieceProtocol({ libp2p, store, registry: swarmRegistry, logger: logger.child('pieces'), stallTimeoutMs })
      const swarm = new SwarmFetcher({ client, pieces, registry: swarmRegistry, book, logger: logger.child('swarm'), self: libp2p.peerId.toString(), answerTimeoutMs: SWARM_ANSWER_TIMEOUT_MS })
      const fetcher = new PeerFetcher({ store, availability, client, book, logger: logger.child('fetch'), parallelThreshold: p2p.parallelFetchThreshold, swarm })
      await availability.start()
      await server.start()
      await pieces.start()
      await lookups.start()
      await list.start()
      await host.start()
      const node = new P2pNode(components, host, availability, book, client, server, list, lookups, fetcher, signer)
      logger.info('p2p started', { peerId: node.peerId, addresses: node.addresses, mdns: p2p.mdns, staticPeers: p2p.peers.length })
      return node
    } catch (error) {
      await host.stop().catch(() => {})
      throw error
    }
  }

  /** The libp2p node (its connections and streams); for tests and diagnostics. */
  get libp2p (): Libp2p { return this.host.libp2p }

  get addresses (): string[] {
    return this.host.libp2p.getMultiaddrs().map((a) => a.toString())
  }

  candidates (digest: Digest): string[] {
    return this.blobFetcher.rank(digest)
  }

  async dial (address: string, signal?: AbortSignal): Promise<string> {
    const connection = await this.host.libp2p.dial(multiaddr(address), { signal })
    return connection.remotePeer.toString()
  }

  async resummarize (): Promise<void> {
    await this.availability.resummarize()
  }

  staticPeers (): StaticPeerState[] {
    return this.host.staticPeers()
  }

  peers (): PeerStatus[] {
    const libp2p = this.host.libp2p
    const byPeer = new Map<string, string[]>()
    for (const connection of libp2p.getConnections()) {
      const key = connection.remotePeer.toString()
      byPeer.set(key, [...(byPeer.get(key) ?? []), connection.remoteAddr.toString()])
    }
    const ids = new Set([...byPeer.keys(), ...this.book.all().map((r) => r.peerId)])
    const now = Date.now()
    const paused = this.availability.paused
    return [...ids].sort().map((peerId) => {
      const record = this.book.get(peerId)
      return {
        peerId,
        addresses: byPeer.get(peerId) ?? [],
        blobsAdvertised: this.availability.advertised(peerId),
        bytesFetchedFrom: record.bytesFetchedFrom,
        bytesServedTo: record.bytesServedTo,
        banned: record.bannedUntil > now,
        bannedUntilMs: record.bannedUntil > now ? record.bannedUntil : 0,
        connected: byPeer.has(peerId),
        summaryKept: this.availability.keepsSummaryOf(peerId),
        announcementsPausedByUs: paused.byUs.includes(peerId),
        announcementsPausedByPeer: paused.bySenders.includes(peerId)
      }
    })
  }

  sync (options: SyncOptions): AsyncIterable<SyncProgress> {
    return syncFromPeer({
      libp2p: this.host.libp2p,
      store: this.components.store,
      list: this.list,
      lookups: this.nameFetcher,
      signer: this.signer,
      client: this.fetchClient,
      book: this.book,
      logger: this.log.child('sync')
    }, options)
  }

  async stop (): Promise<void> {
    await this.availability.stop()
    this.fetchClient.close()
    this.nameFetcher.close()
    await this.host.stop()
  }
}

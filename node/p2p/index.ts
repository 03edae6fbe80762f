import type { Logger } from '../log/logger.js'
import { PeercasError, Status } from '../domain/status.js'
import type { PeercasConfig } from '../config/schema.js'
import type { BlobCatalog, BlobReader, BlobSink } from '../store/index.js'
import type { NameIndex } from '../store/name-index.js'
import type { BlobFetcher } from '../resolve/tiered-resolver.js'
import type { NameFetcher } from '../resolve/named-results.js'
import type { PeerStatus__Output as PeerStatus } from '../generated/peercas/admin/v1/PeerStatus.js'
import type { SyncProgress } from '../generated/peercas/admin/v1/SyncProgress.js'
import type { Digest } from '../store/digest.js'
import type { Stream } from '@libp2p/interface'
import type { ServeTransform } from './fetch-server.js'
import { P2pNode } from './p2p-node.js'
import type { StaticPeerState } from './host.js'

export type { StaticPeerState } from './host.js'

/** What the p2p layer needs from the node. */
export interface P2pComponents {
  config: PeercasConfig
  store: BlobReader & BlobSink & BlobCatalog & { readonly names: NameIndex }
  logger: Logger
  /** Test hooks; never set in production. */
  testHooks?: P2pTestHooks
}

/** Hooks that let a test build a misbehaving (but real) peer. */
export interface P2pTestHooks {
  /** Rewrites bytes this node serves (to make it lie about content). */
  serveTransform?: ServeTransform
  /** Smaller bounds on kept peer summaries than MAX_SUMMARY_PEERS / MAX_SUMMARY_MEMORY_BYTES. */
  maxSummaryPeers?: number
  maxSummaryBytes?: number
  /** Accept fetch and action-result streams, read the request, and never answer (a hung peer). */
  stall?: boolean
  /** Send a summary with every bit set (claims to hold every blob). */
  advertiseEverything?: boolean
  /** Bytes of blobs this node asks for inline in action-result answers (0 = none). */
  maxInlineBytes?: number
  /** Speak only /peercas/fetch/1.0.0, serving and fetching (a node from before 1.1.0). */
  legacyFetchOnly?: boolean
  /** Called with every fetch stream a peer opens to this node. */
  onFetchStream?: (stream: Stream) => void
  /** Close idle reusable fetch streams after this many ms instead of FETCH_STREAM_IDLE_MS. */
  fetchStreamIdleMs?: number
}

/** Options of one `peercas sync` run. */
export interface SyncOptions {
  /** Multiaddr (with /p2p/ID) or bare peer ID. */
  peer: string
  /** Only entries newer than this many ms (0 = all). */
  sinceMs: number
  acOnly: boolean
  signal: AbortSignal
  /** Missing entries of each kind one run takes on; the rest waits for the next run. @default 500000 */
  maxPending?: number
}

/** The running libp2p side of a node. */
export interface P2pService {
  readonly peerId: string
  /** Multiaddrs we listen on, with /p2p/ID. */
  readonly addresses: string[]
  /** The peer tier of the read path. */
  readonly blobFetcher: BlobFetcher
  /** Named-result lookups at trusted peers. */
  readonly nameFetcher: NameFetcher
  /** Per-peer status for `peercas status`. */
  peers(): PeerStatus[]
  /** How dialling each configured `--peer` goes (read-only, for `peercas status`). */
  staticPeers(): StaticPeerState[]
  /** Pulls from one peer; yields progress until done. */
  sync(options: SyncOptions): AsyncIterable<SyncProgress>
  /** Candidate peers for a digest, best first (from memory; no network round trip). */
  candidates(digest: Digest): string[]
  /** Dials a peer by multiaddr; resolves its peer ID. */
  dial(address: string, signal?: AbortSignal): Promise<string>
  /** Rebuilds and re-sends our availability summary now (normally periodic). */
  resummarize(): Promise<void>
  stop(): Promise<void>
}

/** The p2p layer is switched off (`--no-p2p`) or not available. */
export class P2pDisabledError extends PeercasError {
  override name = 'P2pDisabledError'
  readonly status = Status.FAILED_PRECONDITION
}

/**
 * Starts the libp2p host, availability gossip and fetch protocols, or returns `undefined`
 * when `config.p2p.enabled` is false.
 */
export async function startP2p (components: P2pComponents): Promise<P2pService | undefined> {
  if (!components.config.p2p.enabled) return undefined
  return await P2pNode.start(components)
}

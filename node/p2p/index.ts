import type { Logger } from '../log/logger.js'
import { PeercasError, Status } from '../domain/status.js'
import type { PeercasConfig } from '../config/schema.js'
import type { BlobCatalog, BlobReader, BlobSink, SublevelProvider } from '../store/index.js'
import type { NameIndex } from '../store/name-index.js'
import type { BlobFetcher } from '../resolve/tiered-resolver.js'
import type { NameFetcher } from '../resolve/named-results.js'
import type { TrustPolicy } from '../trust/policy.js'
import type { ResultSigner } from '../trust/signatures.js'
import type { PeerStatus__Output as PeerStatus } from '../generated/peercas/admin/v1/PeerStatus.js'
import type { SyncProgress } from '../generated/peercas/admin/v1/SyncProgress.js'
import type { Digest } from '../store/digest.js'
import { P2pNode } from './p2p-node.js'
import { readTeamKey, type TeamKey } from './team-key.js'

export { readTeamKey, writeTeamKeyFile, TeamKeyError, TeamKeyExistsError, NO_TEAM_KEY_HINT, OPEN_NETWORK_WARNING, type TeamKey } from './team-key.js'
import type { StaticPeerState } from './host.js'

export type { StaticPeerState } from './host.js'

/** What the p2p layer needs from the node. */
export interface P2pComponents {
  config: PeercasConfig
  store: BlobReader & BlobSink & BlobCatalog & SublevelProvider & { readonly names: NameIndex }
  logger: Logger
  /** The node's shutdown signal: ends dials and waits. @default never */
  shutdown?: AbortSignal
  /** Judges named results from peers (the resolver's policy). @default one from `config.trust` */
  policy?: TrustPolicy
  /** Signs what this node vouches for (sync of unsigned entries). @default one with the node's identity */
  signer?: ResultSigner
  /** The team key, already read from `config.p2p.psk`; read here when not given. */
  teamKey?: TeamKey
}

/**
 * How the p2p layer runs: `team` (a private network behind the team key), `open` (any host that
 * reaches the port; `p2p.open: true`), or off — `disabled` (`--no-p2p`) or `no-team-key` (the
 * default: a node with no key never serves its cache to strangers).
 */
export type P2pMode = 'team' | 'open' | 'disabled' | 'no-team-key'

/** The {@link P2pMode} a configuration asks for. A team key wins over `p2p.open`. */
export function p2pModeOf (config: PeercasConfig): P2pMode {
  if (!config.p2p.enabled) return 'disabled'
  if (config.p2p.psk !== '') return 'team'
  return config.p2p.open ? 'open' : 'no-team-key'
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
 * when p2p is off ({@link p2pModeOf}: disabled, or no team key and not `p2p.open`).
 * Throws {@link TeamKeyError} naming the file if the team key cannot be used.
 */
export async function startP2p (components: P2pComponents): Promise<P2pService | undefined> {
  const mode = p2pModeOf(components.config)
  if (mode === 'disabled' || mode === 'no-team-key') return undefined
  const teamKey = mode === 'team' ? components.teamKey ?? await readTeamKey(components.config.p2p.psk) : undefined
  return await P2pNode.start({ ...components, teamKey })
}

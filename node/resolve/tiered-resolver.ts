import { silentLogger, type Logger } from '../log/logger.js'
import { TIER_FETCH_TIMEOUT_MS } from './constants.js'
import type { Digest } from '../store/digest.js'
import type { BlobFile, BlobReader, InlineBlob } from '../store/index.js'

/** A tier the resolver can fetch missing blobs from (peers, the central CAS). */
export interface BlobFetcher {
  /** Which counter a successful fetch increments. */
  readonly tier: 'peer' | 'remote'
  /**
   * Fetches the blob and stores it, verified, in the local store (given to the fetcher when it
   * is made). Resolves `true` if the blob is in the store afterwards, `false` if this tier does
   * not have it. Never stores unverified bytes.
   */
  fetchInto(digest: Digest, signal: AbortSignal): Promise<boolean>
  /**
   * Of `digests`, those this tier durably holds (so a client need not upload them); optional.
   * Volatile tiers (peers) do not implement it.
   */
  findDurable?(digests: readonly Digest[], signal: AbortSignal): Promise<Set<string>>
}

/** Hits per tier, as shown by `peercas status`. */
export interface TierCounters {
  localHits: number
  peerHits: number
  remoteHits: number
  misses: number
}

/** Options of {@link TieredResolver}. */
export interface TieredResolverInit {
  /** The local store, read first; the fetchers store into it. */
  store: BlobReader
  /** Tried in order after the local store. @default [] */
  fetchers?: BlobFetcher[]
  /** The node's shutdown signal: ends every fetch in progress. @default never */
  shutdown?: AbortSignal
  logger?: Logger
}

/**
 * The read path: the local store first, then each fetcher in order (peers, then the central
 * CAS). Blobs found in a later tier are stored locally before they are served. Concurrent
 * requests for one missing digest share one fetch.
 */
export class TieredResolver {
  readonly counters: TierCounters = { localHits: 0, peerHits: 0, remoteHits: 0, misses: 0 }
  private readonly store: BlobReader
  private readonly fetchers: BlobFetcher[]
  private readonly log: Logger
  private readonly inflight = new Map<string, Promise<boolean>>()
  private readonly shutdown: AbortSignal | undefined

  constructor (init: TieredResolverInit) {
    this.store = init.store
    this.fetchers = init.fetchers ?? []
    this.shutdown = init.shutdown
    this.log = init.logger ?? silentLogger
  }

  /** How many blobs the local store has removed since it opened (see {@link BlobReader.removals}). */
  get localRemovals (): number {
    return this.store.removals
  }

  /** Makes sure the blob is in the local store, fetching it from the tiers if needed. */
  async ensureLocal (digest: Digest, signal?: AbortSignal): Promise<boolean> {
    if (await this.store.has(digest)) {
      this.counters.localHits++
      return true
    }
    return await this.fetchShared(digest, signal)
  }

  /** Reads a whole (small) blob through the tiers, or `undefined` if no tier has it. */
  async read (digest: Digest, signal?: AbortSignal): Promise<Buffer | undefined> {
    return await this.throughTiers(digest, async () => await this.store.read(digest), signal)
  }

  /**
   * Reads many small blobs through the tiers, like {@link read} for each but with one local
   * index lookup for the whole list: a blob absent here goes straight to the tiers (no second
   * lookup per digest). One outcome per digest, in order; the caller bounds the list's length.
   */
  async readMany (digests: readonly Digest[], signal?: AbortSignal): Promise<Array<PromiseSettledResult<Buffer | undefined>>> {
    const absent = new Set((await this.store.findMissing(digests)).map((d) => `${d.hash}/${d.sizeBytes}`))
    signal?.throwIfAborted()
    // One abort listener for the whole list, not one per fetch: adding a listener to a signal
    // costs in proportion to the listeners it already has. None when every blob is stored here
    // (no fetch to race against the signal).
    let onAbort: (() => void) | undefined
    const aborted = signal == null || absent.size === 0
      ? undefined
      : new Promise<never>((_resolve, reject) => {
        onAbort = () => { reject(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
      })
    aborted?.catch(() => {})
    try {
      return await Promise.allSettled(digests.map(async (digest) => {
        if (!absent.has(`${digest.hash}/${digest.sizeBytes}`)) return await this.read(digest, signal)
        const fetch = this.sharedFetch(digest)
        if (!(await (aborted === undefined ? fetch : Promise.race([fetch, aborted])))) return undefined
        return await this.store.read(digest)
      }))
    } finally {
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Opens a blob through the tiers (see {@link BlobReader.openBlob}), or `undefined` if no tier has it. */
  async openBlob (digest: Digest, signal?: AbortSignal): Promise<BlobFile | InlineBlob | undefined> {
    return await this.throughTiers(digest, async () => await this.store.openBlob(digest), signal)
  }

  /**
   * The digests missing for a client that wants to skip uploads: absent locally and not held by
   * any durable tier (the central CAS). Blobs on peers count as missing: peers come and go.
   */
  async findMissing (digests: readonly Digest[], signal?: AbortSignal): Promise<Digest[]> {
    let missing = await this.store.findMissing(digests)
    for (const fetcher of this.fetchers) {
      if (missing.length === 0 || fetcher.findDurable == null) continue
      try {
        const durable = await fetcher.findDurable(missing, signal ?? this.shutdown ?? new AbortController().signal)
        missing = missing.filter((d) => !durable.has(d.hash))
      } catch (error) {
        this.log.warn('durable tier could not answer FindMissingBlobs; reporting blobs as missing', { tier: fetcher.tier, error })
      }
    }
    return missing
  }

  /** `fromStore()` now if the blob is local, else after fetching it from the tiers. */
  private async throughTiers<T> (digest: Digest, fromStore: () => Promise<T | undefined>, signal?: AbortSignal): Promise<T | undefined> {
    const local = await fromStore()
    if (local !== undefined) {
      this.counters.localHits++
      return local
    }
    if (!(await this.fetchShared(digest, signal))) return undefined
    return await fromStore()
  }

  /** The fetch of `digest` through the tiers, shared by every caller that waits for it. */
  private sharedFetch (digest: Digest): Promise<boolean> {
    const key = `${digest.hash}/${digest.sizeBytes}`
    let pending = this.inflight.get(key)
    if (pending === undefined) {
      pending = this.fetchThroughTiers(digest).finally(() => { this.inflight.delete(key) })
      this.inflight.set(key, pending)
    }
    return pending
  }

  private async fetchShared (digest: Digest, signal?: AbortSignal): Promise<boolean> {
    const pending = this.sharedFetch(digest)
    if (signal == null) return await pending
    signal.throwIfAborted()
    // A caller that gives up does not cancel the shared fetch: others may be waiting on it. The
    // listener goes as soon as either side settles: a call that waits for many digests must not
    // leave one listener per digest on its signal.
    let onAbort: (() => void) | undefined
    try {
      return await Promise.race([pending, new Promise<never>((_resolve, reject) => {
        onAbort = () => { reject(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
      })])
    } finally {
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
    }
  }

  /** The signal one tier fetch runs under: its own time bound and the node's shutdown. */
  private fetchSignal (): AbortSignal {
    const timeout = AbortSignal.timeout(TIER_FETCH_TIMEOUT_MS)
    return this.shutdown === undefined ? timeout : AbortSignal.any([this.shutdown, timeout])
  }

  private async fetchThroughTiers (digest: Digest): Promise<boolean> {
    for (const fetcher of this.fetchers) {
      try {
        if (await fetcher.fetchInto(digest, this.fetchSignal())) {
          if (fetcher.tier === 'peer') this.counters.peerHits++; else this.counters.remoteHits++
          return true
        }
      } catch (error) {
        if (this.shutdown?.aborted === true) break
        this.log.warn('tier failed to fetch a blob; trying the next', { tier: fetcher.tier, hash: digest.hash, error })
      }
    }
    this.counters.misses++
    return false
  }
}

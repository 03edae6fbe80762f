import type { Digest } from '../store/digest.js'
import type { BlobSink } from '../store/index.js'
import type { BlobFetcher } from '../resolve/tiered-resolver.js'
import type { NameFetcher, NameHint } from '../resolve/named-results.js'
import type { NamedAnswer } from '../trust/policy.js'
import { actionDigestOf, type ResultName } from '../domain/names.js'
import { assetKey, BUILDSTREAM_REF_URN_PREFIX, encodeAssetMapping } from '../domain/assets.js'
import { encodeRefTarget } from '../domain/refs.js'
import type { CircuitBreaker } from './circuit-breaker.js'
import type { CentralAssetRequest, CentralClient } from './central-client.js'
import { CoalescingBatchReader } from './batch-reader.js'
import { BATCH_READ_THRESHOLD_BYTES, PRESENCE_CACHE_MAX_ENTRIES } from './constants.js'

/**
 * Remembers, for a short time, which blobs the central is known to hold (from FindMissingBlobs,
 * reads and our own uploads), so repeated FindMissingBlobs from local clients cost nothing upstream.
 */
export class PresenceCache {
  private readonly entries = new Map<string, number>()

  constructor (private readonly ttlMs: number) {}

  /** True if the central was seen holding `hash` within the TTL. */
  has (hash: string, now = Date.now()): boolean {
    const expiry = this.entries.get(hash)
    if (expiry === undefined) return false
    if (expiry > now) return true
    this.entries.delete(hash)
    return false
  }

  /** Notes that the central holds these blobs. */
  add (hashes: Iterable<string>): void {
    if (this.ttlMs <= 0) return
    const expiry = Date.now() + this.ttlMs
    for (const hash of hashes) {
      this.entries.delete(hash)
      this.entries.set(hash, expiry)
    }
    if (this.entries.size > PRESENCE_CACHE_MAX_ENTRIES) this.prune()
  }

  private prune (): void {
    // Insertion order is expiry order (entries are re-inserted on refresh), so drop from the front.
    const now = Date.now()
    for (const [hash, expiry] of this.entries) {
      if (expiry > now && this.entries.size <= PRESENCE_CACHE_MAX_ENTRIES * 0.9) break
      this.entries.delete(hash)
    }
  }
}

/** What the read-through tier needs. */
export interface ReadThroughInit {
  client: CentralClient
  /** Where fetched blobs go (the local store). */
  store: BlobSink
  breaker: CircuitBreaker
  presence: PresenceCache
  /** Longest a local client waits on the central, ms. */
  clientWaitMs: number
  /** Maps a local instance name to the central's, for the action cache. */
  centralInstance: (localInstance: string) => string
}

/**
 * The central as the last tier of the read path: small blobs by BatchReadBlobs (concurrent misses
 * coalesced into few calls, see {@link CoalescingBatchReader}), large ones streamed with
 * ByteStream.Read (resumed at the received offset when the stream breaks), all verified by the
 * store before they become visible. While the central is offline every method answers at once
 * ("not here").
 */
export function createReadThrough (init: ReadThroughInit): { blobFetcher: BlobFetcher, nameFetcher: NameFetcher } {
  const { client, store, breaker, presence } = init
  const waitSignal = (signal: AbortSignal): AbortSignal => AbortSignal.any([signal, AbortSignal.timeout(init.clientWaitMs)])
  // Concurrent small misses share calls.
  const batchReader = new CoalescingBatchReader({ client, store, clientWaitMs: init.clientWaitMs })

  const blobFetcher: BlobFetcher = {
    tier: 'remote',
    async fetchInto (digest: Digest, signal: AbortSignal): Promise<boolean> {
      if (!breaker.online) return false
      const batchLimit = Math.min(BATCH_READ_THRESHOLD_BYTES, client.capabilities?.maxBatchBytes ?? BATCH_READ_THRESHOLD_BYTES)
      let found: boolean
      if (digest.sizeBytes <= batchLimit) {
        found = await batchReader.read(digest, waitSignal(signal))
      } else {
        // Large blobs may take long to stream; the client-wait bound applies to stalls instead.
        found = await client.streamInto(digest, store, signal, init.clientWaitMs)
      }
      if (found) presence.add([digest.hash])
      return found
    },
    async findDurable (digests: readonly Digest[], signal: AbortSignal): Promise<Set<string>> {
      const present = new Set<string>()
      if (!breaker.online) return present
      const unknown = new Map<string, Digest>()
      const now = Date.now()
      for (const d of digests) {
        if (presence.has(d.hash, now)) present.add(d.hash); else unknown.set(d.hash, d)
      }
      if (unknown.size === 0) return present
      const missing = new Set((await client.findMissing([...unknown.values()], waitSignal(signal), init.clientWaitMs)).map((d) => d.hash))
      const found = [...unknown.keys()].filter((hash) => !missing.has(hash))
      presence.add(found)
      for (const hash of found) present.add(hash)
      return present
    }
  }

  // Action results come from the central's action cache; assets and refs from its Remote Asset
  // service, where it has one (asked by URI, a ref by its BuildStream URN). The blobs they name are
  // then read through like any other, so a hit is complete once the central's CAS holds them.
  const nameFetcher: NameFetcher = {
    tier: 'remote',
    async fetchNamed (name: ResultName, signal: AbortSignal, hint?: NameHint): Promise<NamedAnswer | undefined> {
      // Results of other build environments stay off the central: its namespace is the instance
      // name alone, where they would mix (docs/security.md).
      if (!breaker.online || name.environment !== '') return undefined
      const instanceName = init.centralInstance(name.instanceName)
      if (name.kind === 'action-result') {
        const value = await client.getActionResult(instanceName, actionDigestOf(name), waitSignal(signal), init.clientWaitMs)
        return value === undefined ? undefined : { value, source: { tier: 'remote' } }
      }
      const request = centralAssetRequest(name, instanceName, hint)
      if (request === undefined || !client.offersAssets) return undefined
      const found = await client.fetchAsset(request, waitSignal(signal), init.clientWaitMs)
      if (found === undefined) return undefined
      const value = name.kind === 'ref'
        ? encodeRefTarget(found.digest)
        : encodeAssetMapping({
          uri: request.uri,
          qualifiers: request.qualifiers,
          target: request.want === 'blob' ? { blob: found.digest } : { directory: found.digest },
          expireAtMs: found.expireAtMs,
          createdAtMs: Date.now(),
          // Recomputed when the value is decoded.
          selfVerifying: false
        })
      return { value, source: { tier: 'remote' } }
    }
  }

  return { blobFetcher, nameFetcher }
}

/**
 * How the central's Remote Asset service is asked for `name`: an asset by the URI and qualifiers
 * of the lookup's hint (its key is a hash of them; a hint for another key is ignored), a ref by
 * its BuildStream URN with FetchDirectory. `undefined` when the name cannot be asked for.
 */
export function centralAssetRequest (name: ResultName, instanceName: string, hint?: NameHint): CentralAssetRequest | undefined {
  if (name.kind === 'ref') return { instanceName, uri: BUILDSTREAM_REF_URN_PREFIX + name.key, qualifiers: [], want: 'directory' }
  const asset = hint?.asset
  if (name.kind !== 'asset' || asset === undefined || assetKey(asset.uri, asset.qualifiers) !== name.key) return undefined
  return { instanceName, uri: asset.uri, qualifiers: asset.qualifiers, want: asset.want }
}

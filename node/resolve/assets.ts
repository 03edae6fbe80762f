import {
  assetKey,
  buildStreamRefOf,
  ContentNotInCasError,
  decodeAssetMapping,
  encodeAssetMapping,
  mappingMatches,
  sha256HexOf,
  type AssetMapping,
  type AssetRequest,
  type AssetTarget,
  type SriHash
} from '../domain/assets.js'
import { InvalidRequestError, NotFoundError } from '../domain/errors.js'
import { assetName, refName } from '../domain/names.js'
import { decodeRefTarget, encodeRefTarget, validateRefName } from '../domain/refs.js'
import { silentLogger, type Logger } from '../log/logger.js'
import { formatDigest, type Digest } from '../store/digest.js'
import { directoryReferences } from '../domain/references.js'
import { checkReferences } from './named-result-rules.js'
import type { NamedResultResolver } from './named-results.js'
import type { TieredResolver } from './tiered-resolver.js'

/** Where assets no tier holds are downloaded from (node/origin/http-origin.ts). */
export interface AssetOrigin {
  /** True for the URIs this origin can download. */
  canFetch(uri: string): boolean
  /** Downloads, verifies against `sri` and stores the content; returns its digest. */
  fetch(uri: string, options: { sri?: readonly SriHash[], timeoutMs?: number, signal: AbortSignal }): Promise<Digest>
}

/** Options of {@link AssetResolver}. */
export interface AssetResolverInit {
  /** Named results (kinds `asset` and `ref`). */
  names: NamedResultResolver
  /** The blob read path (pushed content must be reachable through it). */
  blobs: TieredResolver
  /** Downloads from origins; absent when the node must not reach the internet (`--no-origin-fetch`). */
  origin?: AssetOrigin
  logger?: Logger
}

/** Options of a fetch. */
export interface AssetFetchOptions {
  signal: AbortSignal
  /** The request's own timeout for an origin download. */
  timeoutMs?: number
  /** Content fetched or pushed before this (epoch ms) is not served (`oldest_content_accepted`). */
  oldestAcceptedMs?: number
}

/** A resolved asset: which of the request's URIs it was found under, and what it maps to. */
export interface ResolvedAsset {
  uri: string
  mapping: AssetMapping
}

/** Options of a push. */
export interface AssetPushOptions {
  signal: AbortSignal
  /** Epoch ms after which the mapping is not served; 0: never. */
  expireAtMs?: number
}

/**
 * The Remote Asset read and write paths over named results. A fetch tries each of the request's
 * URIs through the named-result tiers (local, peers, central); when none has it and the node
 * may reach the internet, FetchBlob downloads the first http(s) URI that works, verified against
 * `checksum.sri`, and records the mapping. BuildStream's ref URNs are answered from refs, so a
 * ref is one artifact whichever API (ReferenceStorage or Remote Asset) wrote it.
 */
export class AssetResolver {
  private readonly log: Logger

  constructor (private readonly init: AssetResolverInit) {
    this.log = init.logger ?? silentLogger
  }

  /** FetchBlob: the blob the request names; throws NotFoundError or an origin error. */
  async fetchBlob (instanceName: string, request: AssetRequest, options: AssetFetchOptions): Promise<ResolvedAsset> {
    const found = await this.lookup(instanceName, request, 'blob', options)
    if (found !== undefined) return found
    const origin = this.init.origin
    if (origin === undefined) {
      throw new NotFoundError(`no tier holds ${describe(request)}, and this node does not download from origins (assets.originFetch is off)`)
    }
    const fetchable = request.uris.filter((uri) => origin.canFetch(uri))
    if (fetchable.length === 0) throw new NotFoundError(`no tier holds ${describe(request)}, and peercas downloads only http and https URLs`)
    let lastError: unknown
    for (const uri of fetchable) {
      try {
        const blob = await origin.fetch(uri, { sri: request.sri, timeoutMs: options.timeoutMs, signal: options.signal })
        const mapping = this.mapping(uri, request, { blob }, 0)
        await this.init.names.put(assetName(instanceName, assetKey(uri, request.qualifiers)), encodeAssetMapping(mapping))
        return { uri, mapping }
      } catch (error) {
        if (options.signal.aborted) throw error
        this.log.info('origin download failed', { uri, error })
        lastError = error
      }
    }
    throw lastError
  }

  /** FetchDirectory: the root Directory the request names (pushed content only); throws NotFoundError. */
  async fetchDirectory (instanceName: string, request: AssetRequest, options: AssetFetchOptions): Promise<{ uri: string, root: Digest, mapping?: AssetMapping }> {
    const ref = buildStreamRefOf(request)
    if (ref !== undefined) {
      const root = await this.getRef(instanceName, ref, options.signal)
      if (root === undefined) throw new NotFoundError(`no complete artifact for BuildStream ref ${JSON.stringify(ref)} in instance ${JSON.stringify(instanceName)}`)
      return { uri: request.uris[0]!, root }
    }
    const found = await this.lookup(instanceName, request, 'directory', options)
    if (found === undefined || !('directory' in found.mapping.target)) {
      throw new NotFoundError(`no tier holds a directory for ${describe(request)} (peercas serves pushed directories only; it does not unpack archives)`)
    }
    return { uri: found.uri, root: found.mapping.target.directory, mapping: found.mapping }
  }

  /** PushBlob: records the blob under each URI; the blob must be reachable. */
  async pushBlob (instanceName: string, request: AssetRequest, blob: Digest, options: AssetPushOptions): Promise<void> {
    const pinned = request.sri === undefined ? undefined : sha256HexOf(request.sri)
    if (pinned !== undefined && pinned !== blob.hash) throw new InvalidRequestError(`blob_digest ${formatDigest(blob)} contradicts checksum.sri (sha256 ${pinned})`)
    const missing = await this.init.blobs.findMissing([blob], options.signal)
    if (missing.length > 0 && !(await this.init.blobs.ensureLocal(blob, options.signal))) {
      throw new ContentNotInCasError(`blob ${formatDigest(blob)} is not in the CAS; upload it before PushBlob`)
    }
    await this.record(instanceName, request, { blob }, options.expireAtMs ?? 0)
  }

  /** PushDirectory: records the tree under each URI (or as a BuildStream ref); the whole tree must be reachable. */
  async pushDirectory (instanceName: string, request: AssetRequest, root: Digest, options: AssetPushOptions): Promise<void> {
    const ref = buildStreamRefOf(request)
    if (ref !== undefined) {
      await this.putRef(instanceName, [ref], root, options.signal)
      return
    }
    await this.requireTree(root, options.signal)
    await this.record(instanceName, request, { directory: root }, options.expireAtMs ?? 0)
  }

  /** The root Directory of a complete artifact ref, or `undefined`. */
  async getRef (instanceName: string, ref: string, signal: AbortSignal): Promise<Digest | undefined> {
    const value = await this.init.names.get(refName(instanceName, validateRefName(ref, 'key')), signal)
    return value === undefined ? undefined : decodeRefTarget(value)
  }

  /** Points each ref at `root`; the whole tree must be reachable. */
  async putRef (instanceName: string, refs: readonly string[], root: Digest, signal: AbortSignal): Promise<void> {
    if (refs.length === 0) throw new InvalidRequestError('keys is empty: name at least one ref')
    refs.forEach((ref, i) => validateRefName(ref, `keys[${i}]`))
    await this.requireTree(root, signal)
    for (const ref of refs) await this.init.names.put(refName(instanceName, ref), encodeRefTarget(root))
  }

  private async requireTree (root: Digest, signal: AbortSignal): Promise<void> {
    const problem = await checkReferences(() => directoryReferences(root), this.init.blobs, signal)
    if (problem === undefined) return
    const why = 'missing' in problem ? `blob ${formatDigest(problem.missing)} is not in the CAS` : problem.malformed
    throw new ContentNotInCasError(`directory ${formatDigest(root)} is not complete in the CAS (${why}); upload the whole tree first`)
  }

  private async lookup (instanceName: string, request: AssetRequest, want: 'blob' | 'directory', options: AssetFetchOptions): Promise<ResolvedAsset | undefined> {
    for (const uri of request.uris) {
      const value = await this.init.names.get(assetName(instanceName, assetKey(uri, request.qualifiers)), options.signal, { asset: { uri, qualifiers: request.qualifiers, want } })
      if (value === undefined) continue
      const mapping = decodeAssetMapping(value)
      // The key is a hash of (uri, qualifiers); a value for anything else is not an answer.
      if (!mappingMatches(mapping, uri, request.qualifiers)) {
        this.log.warn('asset mapping does not match its name; ignored', { uri })
        continue
      }
      if (!(want in mapping.target)) continue
      if (options.oldestAcceptedMs !== undefined && mapping.createdAtMs < options.oldestAcceptedMs) continue
      return { uri, mapping }
    }
    return undefined
  }

  private async record (instanceName: string, request: AssetRequest, target: AssetTarget, expireAtMs: number): Promise<void> {
    for (const uri of request.uris) {
      const mapping = this.mapping(uri, request, target, expireAtMs)
      await this.init.names.put(assetName(instanceName, assetKey(uri, request.qualifiers)), encodeAssetMapping(mapping))
    }
  }

  private mapping (uri: string, request: AssetRequest, target: AssetTarget, expireAtMs: number): AssetMapping {
    const pinned = request.sri === undefined ? undefined : sha256HexOf(request.sri)
    return { uri, qualifiers: request.qualifiers, target, expireAtMs, createdAtMs: Date.now(), selfVerifying: pinned !== undefined && 'blob' in target }
  }
}

function describe (request: AssetRequest): string {
  const uris = request.uris.length === 1 ? request.uris[0]! : `any of ${request.uris.join(', ')}`
  return request.qualifiers.length === 0 ? uris : `${uris} with ${request.qualifiers.map((q) => `${q.name}=${q.value}`).join(', ')}`
}

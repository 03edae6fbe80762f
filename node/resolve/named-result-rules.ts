import { referencedDigests } from '../domain/action-result.js'
import { reapiMessages } from '../domain/messages.js'
import type { NameKind } from '../domain/names.js'
import { checkContainerSize, referencesOf, type ValueReferences } from '../domain/references.js'
import { InvalidRequestError } from '../domain/errors.js'
import { formatDigest, isEmptyDigest, type Digest } from '../store/digest.js'
import { InvalidDigestError } from '../store/errors.js'
import type { TieredResolver } from './tiered-resolver.js'
import { findBounded } from '../limits/index.js'

/** Why a named result's value cannot be served: a blob no tier can supply, or a value that is not usable at all. */
export type Incompleteness = { missing: Digest } | { malformed: string }

/**
 * What differs between kinds of named result. Everything else — tiers, storing, counting — is
 * the same for every kind ({@link NamedResultResolver}).
 */
export interface NamedResultRule {
  readonly kind: NameKind
  /**
   * Checks a value a local client writes; throws an error naming the bad field (InvalidDigestError,
   * InvalidRequestError). Returns the bytes to store.
   */
  validate(value: Buffer): Buffer
  /**
   * The canonical bytes of a value another tier sent (decoded and encoded again, so unknown or
   * duplicated fields do not travel on), or `undefined` if the bytes are not such a value.
   */
  normalize(value: Buffer): Buffer | undefined
  /**
   * `undefined` when every blob the value needs is reachable through `blobs` (fetching from peers
   * what only peers hold), else why not. A broken hit is worse than a miss.
   */
  checkComplete(value: Buffer, blobs: TieredResolver, signal: AbortSignal): Promise<Incompleteness | undefined>
  /**
   * True when a value found complete stays complete for as long as no blob leaves the local
   * store (see COMPLETENESS_REUSE_MS in named-results.ts); false for values whose completeness
   * also depends on the clock (an asset mapping expires). @default false
   */
  readonly completenessLastsWhileBlobsStay?: boolean
}

/** Blobs of one result fetched from other tiers at once during the completeness check. */
export const COMPLETENESS_FETCH_CONCURRENCY = 8

/**
 * ActionResults: complete when every blob they reference — output files, output-directory Trees
 * and every file in them, stdout, stderr — can be read.
 */
export const actionResultRule: NamedResultRule = {
  kind: 'action-result',
  completenessLastsWhileBlobsStay: true,
  validate (value) {
    referencedDigests(reapiMessages.ActionResult.deserialize(value))
    return value
  },
  normalize (value) {
    try {
      return reapiMessages.ActionResult.serialize(reapiMessages.ActionResult.deserialize(value))
    } catch {
      return undefined
    }
  },
  async checkComplete (value, blobs, signal) {
    return await checkReferences(() => referencesOf('action-result', value), blobs, signal)
  }
}

/**
 * Whether every blob a value references is reachable: containers (Trees, Directories) are read
 * through the tiers and their children checked in turn; the leaves are checked together. The
 * walk is the kind's ({@link referencesOf}); a value that does not decode, or a container that is
 * not what it should be, is malformed.
 */
export async function checkReferences (references: () => ValueReferences, blobs: TieredResolver, signal: AbortSignal): Promise<Incompleteness | undefined> {
  try {
    const refs = references()
    const leaves: Digest[] = []
    const seen = new Set<string>()
    let level = [...refs.direct]
    while (level.length > 0) {
      const next: Digest[] = []
      for (const digest of level) {
        if (seen.has(digest.hash)) continue
        seen.add(digest.hash)
        if (!refs.isContainer(digest)) { if (!isEmptyDigest(digest)) leaves.push(digest); continue }
        checkContainerSize(digest)
        const bytes = await blobs.read(digest, signal)
        if (bytes === undefined) return { missing: digest }
        next.push(...refs.childrenOf(digest, bytes))
      }
      level = next
    }
    const missing = await firstUnreachable(leaves, blobs, signal)
    return missing === undefined ? undefined : { missing }
  } catch (error) {
    // InvalidTreeError and MalformedValueError are InvalidRequestErrors.
    if (error instanceof InvalidRequestError || error instanceof InvalidDigestError) return { malformed: error.message }
    throw error
  }
}

/**
 * The first of `digests` no tier can supply, or `undefined`. Reachable means: stored here, held
 * by a durable tier (the central CAS, which a client can then read through us), or fetched from
 * a peer now, several at a time (an action's outputs are independent).
 */
async function firstUnreachable (digests: readonly Digest[], blobs: TieredResolver, signal: AbortSignal): Promise<Digest | undefined> {
  const unique = [...new Map(digests.map((d) => [formatDigest(d), d])).values()]
  const notDurable = await blobs.findMissing(unique, signal)
  if (notDurable.length === 0) return undefined
  return await findBounded(notDurable, COMPLETENESS_FETCH_CONCURRENCY, async (digest) => !(await blobs.ensureLocal(digest, signal)), { signal })
}

import { referencedDigests } from '../domain/action-result.js'
import { reapiMessages } from '../domain/messages.js'
import type { NameKind } from '../domain/names.js'
import { checkTreeSize, InvalidTreeError, treeFileDigests } from '../domain/tree.js'
import { formatDigest, isEmptyDigest, type Digest } from '../store/digest.js'
import { InvalidDigestError } from '../store/errors.js'
import type { TieredResolver } from './tiered-resolver.js'

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
}

/** Blobs of one result fetched from other tiers at once during the completeness check. */
export const COMPLETENESS_FETCH_CONCURRENCY = 8

/**
 * ActionResults: complete when every blob they reference — output files, output-directory Trees
 * and every file in them, stdout, stderr — can be read.
 */
export const actionResultRule: NamedResultRule = {
  kind: 'action-result',
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
    let refs
    try {
      refs = referencedDigests(reapiMessages.ActionResult.deserialize(value))
    } catch (error) {
      return { malformed: (error as Error).message }
    }
    const files = refs.blobs.filter((d) => !isEmptyDigest(d))
    for (const treeDigest of refs.trees) {
      try {
        checkTreeSize(treeDigest)
        const bytes = await blobs.read(treeDigest, signal)
        if (bytes === undefined) return { missing: treeDigest }
        files.push(...treeFileDigests(treeDigest, bytes))
      } catch (error) {
        if (error instanceof InvalidTreeError || error instanceof InvalidDigestError) return { malformed: error.message }
        throw error
      }
    }
    const missing = await firstUnreachable(files, blobs, signal)
    return missing === undefined ? undefined : { missing }
  }
}

/**
 * The first of `digests` no tier can supply, or `undefined`. Reachable means: stored here, held
 * by a durable tier (the central CAS, which a client can then read through us), or fetched from
 * a peer now, several at a time (an action's outputs are independent).
 */
export async function firstUnreachable (digests: readonly Digest[], blobs: TieredResolver, signal: AbortSignal): Promise<Digest | undefined> {
  const unique = [...new Map(digests.map((d) => [formatDigest(d), d])).values()]
  const notDurable = await blobs.findMissing(unique, signal)
  let missing: Digest | undefined
  let next = 0
  const worker = async (): Promise<void> => {
    while (missing === undefined && next < notDurable.length) {
      const digest = notDurable[next++]!
      if (!(await blobs.ensureLocal(digest, signal))) missing ??= digest
    }
  }
  await Promise.all(Array.from({ length: Math.min(COMPLETENESS_FETCH_CONCURRENCY, notDurable.length) }, worker))
  return missing
}

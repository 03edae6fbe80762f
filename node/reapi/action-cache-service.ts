import type { ActionCacheHandlers } from '../generated/build/bazel/remote/execution/v2/ActionCache.js'
import type { ActionResult, ActionResult__Output } from '../generated/build/bazel/remote/execution/v2/ActionResult.js'
import type { Digest } from '../store/digest.js'
import { isEmptyDigest } from '../store/digest.js'
import type { LocalStore } from '../store/local-store.js'
import type { TieredResolver } from '../resolve/tiered-resolver.js'
import type { Logger } from '../log/logger.js'
import { silentLogger } from '../log/logger.js'
import { toRpcError } from './errors.js'
import { InvalidRequestError, NotFoundError } from '../domain/errors.js'
import { checkTreeSize, InvalidTreeError, treeFileDigests } from './tree.js'
import { InvalidDigestError } from '../store/errors.js'
import { checkDigestFunction, digestFromMessage, validateInstanceName } from './request-fields.js'
import { reapi } from './protos.js'
import { signalOf } from './call-writes.js'

/** Looks up action results in other tiers (trusted peers, the central AC); optional. */
export interface ActionResultFetcher {
  /** Returns serialized ActionResult bytes for the action, or `undefined`. */
  fetchActionResult(instanceName: string, actionDigest: Digest, signal: AbortSignal): Promise<Buffer | undefined>
}

/** What the ActionCache service needs. */
export interface ActionCacheServiceDeps {
  store: LocalStore
  resolver: TieredResolver
  /** Tried in order on a local miss. */
  actionResultFetchers?: ActionResultFetcher[]
  onActionResultWritten?: (instanceName: string, actionDigest: Digest) => Promise<void> | void
  logger?: Logger
}

/** Counters of action-cache lookups. */
export interface ActionCacheCounters {
  hits: number
  misses: number
}

/**
 * ActionCache: results are returned only when every blob they reference (output files, output
 * directory trees and the files in them, stdout, stderr) can be read; otherwise NOT_FOUND, since
 * a broken hit is worse than a miss.
 */
export function createActionCacheService (deps: ActionCacheServiceDeps): { handlers: ActionCacheHandlers, counters: ActionCacheCounters } {
  const { store, resolver } = deps
  const log = deps.logger ?? silentLogger
  const counters: ActionCacheCounters = { hits: 0, misses: 0 }

  /** The stored bytes of a complete result (served as they are), or `undefined`. */
  const lookup = async (instanceName: string, actionDigest: Digest, signal: AbortSignal): Promise<Buffer | undefined> => {
    const local = await store.actionCache.get(instanceName, actionDigest)
    if (local !== undefined) {
      const result = reapi.ActionResult.deserialize(local)
      const missing = await findMissingReference(result, resolver, signal)
      if (missing === undefined) return local
      log.info('action result references a missing blob; treating as a miss', { action: actionDigest.hash, missing: missing.hash })
      await store.actionCache.delete(instanceName, actionDigest)
    }
    for (const fetcher of deps.actionResultFetchers ?? []) {
      const bytes = await fetcher.fetchActionResult(instanceName, actionDigest, signal).catch((error) => {
        log.warn('action result lookup in another tier failed', { action: actionDigest.hash, error })
        return undefined
      })
      if (bytes === undefined) continue
      const result = reapi.ActionResult.deserialize(bytes)
      if ((await findMissingReference(result, resolver, signal)) !== undefined) continue
      const normalized = reapi.ActionResult.serialize(result)
      await store.actionCache.put(instanceName, actionDigest, normalized)
      return normalized
    }
    return undefined
  }

  const handlers: ActionCacheHandlers = {
    GetActionResult (call, callback) {
      void (async () => {
        const instanceName = validateInstanceName(call.request.instanceName)
        checkDigestFunction(call.request.digestFunction)
        const actionDigest = digestFromMessage(call.request.actionDigest, 'action_digest')
        const result = await lookup(instanceName, actionDigest, signalOf(call))
        if (result === undefined) {
          counters.misses++
          throw new NotFoundError(`no complete action result for action ${actionDigest.hash}/${actionDigest.sizeBytes} in instance ${JSON.stringify(instanceName)}`)
        }
        counters.hits++
        // Already an encoded ActionResult: the service definition passes Buffers through.
        return result as unknown as ActionResult
      })().then((r) => { callback(null, r) }, (e) => { callback(toRpcError(e)) })
    },

    UpdateActionResult (call, callback) {
      void (async () => {
        const instanceName = validateInstanceName(call.request.instanceName)
        checkDigestFunction(call.request.digestFunction)
        const actionDigest = digestFromMessage(call.request.actionDigest, 'action_digest')
        const result = call.request.actionResult
        if (result == null) throw new InvalidRequestError('action_result is missing')
        referencedDigests(result)
        await store.actionCache.put(instanceName, actionDigest, reapi.ActionResult.serialize(result as ActionResult))
        await deps.onActionResultWritten?.(instanceName, actionDigest)
        return result
      })().then((r) => { callback(null, r) }, (e) => { callback(toRpcError(e)) })
    }
  }
  return { handlers, counters }
}

/** Every digest an ActionResult names directly, validated (throws on a malformed one). */
export function referencedDigests (result: ActionResult__Output): { blobs: Digest[], trees: Digest[] } {
  const blobs: Digest[] = []
  const trees: Digest[] = []
  result.outputFiles.forEach((file, i) => { blobs.push(digestFromMessage(file.digest, `action_result.output_files[${i}] (${file.path}) digest`)) })
  result.outputDirectories.forEach((dir, i) => { trees.push(digestFromMessage(dir.treeDigest, `action_result.output_directories[${i}] (${dir.path}) tree_digest`)) })
  if (result.stdoutDigest != null && result.stdoutDigest.hash !== '') blobs.push(digestFromMessage(result.stdoutDigest, 'action_result.stdout_digest'))
  if (result.stderrDigest != null && result.stderrDigest.hash !== '') blobs.push(digestFromMessage(result.stderrDigest, 'action_result.stderr_digest'))
  return { blobs, trees }
}

/**
 * The first blob a result needs that no tier can supply, or `undefined` when the result is
 * complete. Trees are read and every file in them checked.
 */
async function findMissingReference (result: ActionResult__Output, resolver: TieredResolver, signal: AbortSignal): Promise<Digest | undefined> {
  let refs: { blobs: Digest[], trees: Digest[] }
  try {
    refs = referencedDigests(result)
  } catch {
    return { hash: 'malformed', sizeBytes: 0 }
  }
  const files = refs.blobs.filter((d) => !isEmptyDigest(d))
  for (const treeDigest of refs.trees) {
    try {
      checkTreeSize(treeDigest)
      const bytes = await resolver.read(treeDigest, signal)
      if (bytes === undefined) return treeDigest
      files.push(...treeFileDigests(treeDigest, bytes))
    } catch (error) {
      if (error instanceof InvalidTreeError || error instanceof InvalidDigestError) return treeDigest // unusable result: a miss
      throw error
    }
  }
  const unique = [...new Map(files.map((d) => [`${d.hash}/${d.sizeBytes}`, d])).values()]
  // Reachable means: stored here, held by a durable tier (the central CAS, which the client
  // can then read through us), or fetchable from a peer right now.
  const notDurable = await resolver.findMissing(unique, signal)
  // Fetch what peers have, several at a time: an action's outputs are independent.
  let missing: Digest | undefined
  let next = 0
  const worker = async (): Promise<void> => {
    while (missing === undefined && next < notDurable.length) {
      const digest = notDurable[next++]!
      if (!(await resolver.ensureLocal(digest, signal))) missing ??= digest
    }
  }
  await Promise.all(Array.from({ length: Math.min(COMPLETENESS_FETCH_CONCURRENCY, notDurable.length) }, worker))
  return missing
}

/** Blobs of one action result fetched from other tiers at once during the completeness check. */
const COMPLETENESS_FETCH_CONCURRENCY = 8

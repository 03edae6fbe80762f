import { checkTreeSize, treeFileDigests } from '../domain/tree.js'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import { batchDigests, isEmptyDigest } from '../store/digest.js'
import type { BlobReader } from '../store/index.js'
import type { NameIndex } from '../store/name-index.js'
import { referencedDigests } from '../domain/action-result.js'
import { reapiMessages } from '../domain/messages.js'
import type { ActionResult__Output } from '../generated/build/bazel/remote/execution/v2/ActionResult.js'
import type { CircuitBreaker } from './circuit-breaker.js'
import type { CentralClient } from './central-client.js'
import { DRAIN_ACTIONS_PER_ROUND, DRAIN_BLOBS_PER_ROUND, DRAIN_NAMES_PER_ROUND } from './constants.js'
import { CentralOfflineError } from './errors.js'
import { Backoff, type Semaphore, type TokenBucket } from '../limits/index.js'
import type { PresenceCache } from './read-through.js'
import type { QueuedAction, QueuedName, UploadQueue } from './upload-queue.js'
import { actionResultName, type ResultName } from '../domain/names.js'
import { BUILDSTREAM_REF_URN_PREFIX, decodeAssetMapping } from '../domain/assets.js'
import { decodeRefTarget } from '../domain/refs.js'
import { checkContainerSize, referencesOf } from '../domain/references.js'
import type { CentralAssetRequest } from './central-client.js'

/** What the {@link Uploader} needs. */
export interface UploaderInit {
  queue: UploadQueue
  client: CentralClient
  breaker: CircuitBreaker
  store: BlobReader & { readonly names: NameIndex }
  presence: PresenceCache
  slots: Semaphore
  rate: TokenBucket
  /** Maps a local instance name to the central's, for the action cache. */
  centralInstance: (localInstance: string) => string
  /** Records the last problem for status. */
  onError: (message: string) => void
  logger: Logger
}

/** While the central is offline or there is nothing to send, the drain loop looks again this often (or when woken). */
const IDLE_RECHECK_MS = 60_000
/** A failed drain round is retried after a full-jitter backoff from this delay… */
const ROUND_RETRY_BASE_MS = 200
/** …up to this one. */
const ROUND_RETRY_MAX_MS = 10_000

/** Counters of what reached the central. */
export interface UploadCounters {
  /** Blobs sent. */
  uploadedBlobs: number
  /** Bytes of blobs sent. */
  uploadedBytes: number
  /** Action results stored on the central. */
  uploadedActions: number
  /** Asset mappings and refs pushed to the central's Remote Asset service. */
  uploadedNames: number
  /** Queue items finished (sent, found already there, or dropped). */
  completedItems: number
}

/**
 * Drains the upload queue while the central is online: FindMissingBlobs first, then small blobs
 * in BatchUpdateBlobs and large ones streamed with ByteStream.Write, at most `slots` uploads at a
 * time and paced to `rate`. An action result goes up only once every blob it references is on the
 * central; if the central refuses action-cache updates the entry stays local.
 */
export class Uploader {
  readonly counters: UploadCounters = { uploadedBlobs: 0, uploadedBytes: 0, uploadedActions: 0, uploadedNames: 0, completedItems: 0 }
  private readonly controller = new AbortController()
  private wakeUp: (() => void) | undefined
  private loop: Promise<void> | undefined
  private acRefusedLogged = false
  private readonly changeListeners = new Set<() => void>()

  constructor (private readonly init: UploaderInit) {
    init.queue.onAdded(() => { this.wake() })
  }

  /** Starts the drain loop. */
  start (): void {
    this.loop ??= this.run()
  }

  /** Nudges the loop (new items, central back online). */
  wake (): void {
    const wake = this.wakeUp
    this.wakeUp = undefined
    wake?.()
  }

  /** Calls `listener` after each finished item until the returned function is called. */
  onProgress (listener: () => void): () => void {
    this.changeListeners.add(listener)
    return () => { this.changeListeners.delete(listener) }
  }

  /** Stops the loop; uploads in flight are cancelled and their items stay queued. */
  async stop (): Promise<void> {
    this.controller.abort()
    this.wake()
    await this.loop
  }

  private async run (): Promise<void> {
    const signal = this.controller.signal
    const backoff = new Backoff({ baseMs: ROUND_RETRY_BASE_MS, maxMs: ROUND_RETRY_MAX_MS })
    while (!signal.aborted) {
      const { queue, breaker, client } = this.init
      if (!breaker.online || client.capabilities === undefined || queue.length === 0) {
        await this.idle(IDLE_RECHECK_MS)
        continue
      }
      try {
        await this.round(signal)
        backoff.reset()
      } catch (error) {
        if (signal.aborted) break
        if (!(error instanceof CentralOfflineError)) {
          this.init.onError(`upload failed: ${(error as Error).message}`)
          this.init.logger.warn('upload to the central failed; will retry', { error })
        }
        await this.idle(backoff.next())
      }
    }
  }

  private async idle (ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { this.wakeUp = undefined; resolve() }, ms)
      this.wakeUp = () => { clearTimeout(timer); resolve() }
    })
  }

  private async round (signal: AbortSignal): Promise<void> {
    const blobs = this.init.queue.peekBlobs(DRAIN_BLOBS_PER_ROUND)
    if (blobs.length > 0) {
      await this.uploadBlobs(blobs, signal)
      return
    }
    for (const item of this.init.queue.peekActions(DRAIN_ACTIONS_PER_ROUND)) {
      if (signal.aborted) return
      await this.uploadAction(item, signal)
    }
    for (const item of this.init.queue.peekNames(DRAIN_NAMES_PER_ROUND)) {
      if (signal.aborted) return
      await this.uploadName(item, signal)
    }
  }

  /** Makes sure the central holds `digests`, uploading those it lacks from the local store. */
  private async uploadBlobs (digests: Digest[], signal: AbortSignal): Promise<void> {
    const { client, presence } = this.init
    const missing = await client.findMissing(digests, signal)
    const missingSet = new Set(missing.map((d) => d.hash))
    const present = digests.filter((d) => !missingSet.has(d.hash)).map((d) => d.hash)
    presence.add(present)
    this.finish(present)
    await this.uploadMissing(missing, signal)
  }

  /** Uploads blobs the central just said it lacks: small ones in batches, large ones streamed. */
  private async uploadMissing (missing: Digest[], signal: AbortSignal): Promise<void> {
    const maxBatch = this.init.client.capabilities?.maxBatchBytes ?? 0
    // Leave headroom for framing: some servers count message bytes, not blob bytes.
    const batchLimit = maxBatch * 0.9
    const isLarge = (d: Digest): boolean => d.sizeBytes > batchLimit || d.sizeBytes > 1024 * 1024
    const large = missing.filter(isLarge)
    const batches = batchDigests(missing.filter((d) => !isLarge(d)), { maxBytes: batchLimit, maxCount: 1000 })
    const results = await Promise.allSettled([
      ...batches.map(async (batch) => { await this.init.slots.run(async () => { await this.uploadBatch(batch, signal) }) }),
      ...large.map(async (d) => { await this.init.slots.run(async () => { await this.uploadLarge(d, signal) }) })
    ])
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }

  private async uploadBatch (batch: Digest[], signal: AbortSignal): Promise<void> {
    const { store, client } = this.init
    const blobs: Array<{ digest: Digest, data: Buffer }> = []
    const gone: string[] = []
    for (const digest of batch) {
      const data = await store.read(digest)
      if (data === undefined) gone.push(digest.hash); else blobs.push({ digest, data })
    }
    this.dropGone(gone)
    if (blobs.length === 0) return
    const bytes = blobs.reduce((sum, b) => sum + b.digest.sizeBytes, 0)
    await this.init.rate.take(bytes, signal)
    const failed = await client.batchUpdate(blobs, signal)
    const failedSet = new Set(failed.map((f) => f.digest.hash))
    const done = blobs.filter((b) => !failedSet.has(b.digest.hash))
    for (const b of done) {
      this.counters.uploadedBlobs++
      this.counters.uploadedBytes += b.digest.sizeBytes
    }
    this.init.presence.add(done.map((b) => b.digest.hash))
    this.finish(done.map((b) => b.digest.hash))
    if (failed.length > 0) {
      const first = failed[0]!
      throw new Error(`central rejected ${failed.length} of ${blobs.length} blobs in BatchUpdateBlobs (first: ${first.digest.hash}/${first.digest.sizeBytes}: code ${first.code} ${first.message})`)
    }
  }

  private async uploadLarge (digest: Digest, signal: AbortSignal): Promise<void> {
    const { store, client, rate } = this.init
    const sent = await client.write(digest, async () => await store.openReadStream(digest) as AsyncIterable<Buffer> | undefined, rate, signal)
    if (!sent) {
      this.dropGone([digest.hash])
      return
    }
    this.counters.uploadedBlobs++
    this.counters.uploadedBytes += digest.sizeBytes
    this.init.presence.add([digest.hash])
    this.finish([digest.hash])
  }

  private async uploadAction (item: QueuedAction, signal: AbortSignal): Promise<void> {
    const { store, client, queue, logger } = this.init
    const bytes = await store.names.get(actionResultName(item.instanceName, item.actionDigest))
    if (bytes === undefined) {
      queue.removeAction(item)
      this.completed()
      return
    }
    if (client.capabilities?.acUpdateEnabled !== true) {
      this.refused(item)
      return
    }
    const result = reapiMessages.ActionResult.deserialize(bytes)
    const blobs = await actionBlobs(result, store)
    if (blobs === undefined) {
      logger.warn('action result references blobs this node no longer has; not uploading it', { action: item.actionDigest.hash })
      queue.removeAction(item)
      this.completed()
      return
    }
    const missing = await client.findMissing(blobs, signal)
    if (missing.length > 0) {
      const local = await store.findMissing(missing)
      if (local.length > 0) {
        logger.warn('action result references blobs neither this node nor the central has; not uploading it', { action: item.actionDigest.hash, missing: local[0]!.hash })
        queue.removeAction(item)
        this.completed()
        return
      }
      await this.uploadMissing(missing, signal)
    }
    if (!(await client.updateActionResult(this.init.centralInstance(item.instanceName), item.actionDigest, result, signal))) {
      this.refused(item)
      return
    }
    this.counters.uploadedActions++
    queue.removeAction(item)
    this.completed()
  }

  /**
   * Pushes an asset mapping or ref to the central's Remote Asset service (a ref by its BuildStream
   * URN). The push goes first; only if the central lacks the content are the blobs it names
   * uploaded and the push repeated, so a central without the service costs one call, once.
   */
  private async uploadName (item: QueuedName, signal: AbortSignal): Promise<void> {
    const { store, client, queue, logger } = this.init
    const value = await store.names.get(item.name)
    let push: CentralPush | undefined
    try {
      push = value === undefined || !client.offersAssets ? undefined : centralPushOf(item.name, value, this.init.centralInstance(item.name.instanceName))
    } catch (error) {
      logger.warn('a stored asset or ref does not decode; not pushing it', { key: item.name.key, error })
    }
    if (push === undefined) {
      queue.removeName(item)
      this.completed()
      return
    }
    let outcome = await client.pushAsset(push.request, push.digest, push.expireAtMs, signal)
    if (outcome === 'missing-content') {
      const blobs = await valueBlobs(item.name, value!, store)
      const missing = blobs === undefined ? undefined : await client.findMissing(blobs, signal)
      const gone = missing === undefined ? [push.digest] : await store.findMissing(missing)
      if (gone.length > 0) {
        logger.warn('asset or ref names blobs neither this node nor the central has; not pushing it', { uri: push.request.uri, missing: gone[0]!.hash })
        queue.removeName(item)
        this.completed()
        return
      }
      await this.uploadMissing(missing!, signal)
      outcome = await client.pushAsset(push.request, push.digest, push.expireAtMs, signal)
    }
    if (outcome === 'pushed') this.counters.uploadedNames++
    queue.removeName(item)
    this.completed()
  }

  private refused (item: QueuedAction): void {
    if (!this.acRefusedLogged) {
      this.acRefusedLogged = true
      this.init.logger.info('the central does not accept action-cache updates; action results stay local (blobs are still uploaded)')
    }
    this.init.queue.removeAction(item)
    this.completed()
  }

  private dropGone (hashes: string[]): void {
    if (hashes.length === 0) return
    this.init.logger.warn('queued blobs vanished from the local store before upload; dropping them from the queue', { count: hashes.length, first: hashes[0] })
    this.finish(hashes)
  }

  private finish (hashes: string[]): void {
    if (hashes.length === 0) return
    this.init.queue.removeBlobs(hashes)
    this.counters.completedItems += hashes.length
    for (const listener of this.changeListeners) listener()
  }

  private completed (): void {
    this.counters.completedItems++
    for (const listener of this.changeListeners) listener()
  }
}

/**
 * Every non-empty blob an action result needs on the central: outputs, stdout/stderr, output
 * trees and the files in them. `undefined` if a tree is not in the local store.
 */
export async function actionBlobs (result: ActionResult__Output, store: Pick<BlobReader, 'read'>): Promise<Digest[] | undefined> {
  const refs = referencedDigests(result)
  const out = new Map<string, Digest>()
  for (const d of [...refs.blobs, ...refs.trees]) if (!isEmptyDigest(d)) out.set(d.hash, d)
  for (const treeDigest of refs.trees) {
    checkTreeSize(treeDigest)
    const bytes = await store.read(treeDigest)
    if (bytes === undefined) return undefined
    for (const d of treeFileDigests(treeDigest, bytes)) if (!isEmptyDigest(d)) out.set(d.hash, d)
  }
  return [...out.values()]
}

/** What pushing an asset mapping or ref to the central's Remote Asset service sends. */
interface CentralPush {
  request: CentralAssetRequest
  digest: Digest
  expireAtMs: number
}

/** The push of a stored asset mapping or ref; `undefined` for other kinds, other environments and expired mappings. */
function centralPushOf (name: ResultName, value: Buffer, instanceName: string): CentralPush | undefined {
  if (name.environment !== '') return undefined
  if (name.kind === 'ref') {
    return { request: { instanceName, uri: BUILDSTREAM_REF_URN_PREFIX + name.key, qualifiers: [], want: 'directory' }, digest: decodeRefTarget(value), expireAtMs: 0 }
  }
  if (name.kind !== 'asset') return undefined
  const mapping = decodeAssetMapping(value)
  if (mapping.expireAtMs > 0 && mapping.expireAtMs <= Date.now()) return undefined
  const blob = 'blob' in mapping.target
  return {
    request: { instanceName, uri: mapping.uri, qualifiers: mapping.qualifiers, want: blob ? 'blob' : 'directory' },
    digest: 'blob' in mapping.target ? mapping.target.blob : mapping.target.directory,
    expireAtMs: mapping.expireAtMs
  }
}

/**
 * Every non-empty blob a named result's value needs on the central (a directory tree walked
 * through the local store). `undefined` if a Directory of it is not in the local store.
 */
export async function valueBlobs (name: ResultName, value: Buffer, store: Pick<BlobReader, 'read'>): Promise<Digest[] | undefined> {
  const refs = referencesOf(name.kind, value)
  const out = new Map<string, Digest>()
  const pending = [...refs.direct]
  while (pending.length > 0) {
    const digest = pending.pop()!
    if (isEmptyDigest(digest) || out.has(digest.hash)) continue
    out.set(digest.hash, digest)
    if (!refs.isContainer(digest)) continue
    checkContainerSize(digest)
    const bytes = await store.read(digest)
    if (bytes === undefined) return undefined
    pending.push(...refs.childrenOf(digest, bytes))
  }
  return [...out.values()]
}

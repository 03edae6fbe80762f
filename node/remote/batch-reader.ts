import type { Digest } from '../store/digest.js'
import type { BlobSink } from '../store/index.js'
import type { CentralClient } from './central-client.js'
import { formatDigest } from '../store/digest.js'
import { BATCH_READ_MAX_BLOBS, BATCH_READ_THRESHOLD_BYTES, BATCH_READS_IN_FLIGHT } from './constants.js'
import { CentralTimeoutError } from './errors.js'

/** What {@link CoalescingBatchReader} needs. */
export interface CoalescingBatchReaderInit {
  client: Pick<CentralClient, 'batchReadInto' | 'capabilities'>
  /** Where fetched blobs are stored, verified. */
  store: BlobSink
  /** Deadline of each batch, ms (a local client never waits longer on the central). */
  clientWaitMs: number
  /** BatchReadBlobs calls in flight at once. @default 2 ({@link BATCH_READS_IN_FLIGHT}) */
  maxInFlight?: number
  /** Digests per call. @default 1000 ({@link BATCH_READ_MAX_BLOBS}) */
  maxBlobsPerBatch?: number
}

/** One digest some callers are waiting for. */
interface PendingRead {
  readonly digest: Digest
  readonly key: string
  readonly result: PromiseWithResolvers<boolean>
  /** Callers still waiting; a queued read nobody waits for any more is dropped. */
  waiters: number
}

/**
 * Reads small blobs from the central for many concurrent callers with few BatchReadBlobs calls.
 * A miss leaves at once (at the end of the current event-loop turn, with any other miss of that
 * turn) while fewer than `maxInFlight` calls are out; otherwise it waits for one of them to
 * return and leaves with every miss gathered meanwhile, up to the central's batch limit. A lone
 * read therefore never waits, and the slower the central, the larger the batches.
 *
 * Each caller gets the outcome of its own digest only: stored (verified), not on the central, or
 * the error of that blob (e.g. corrupt bytes); a failed call fails the callers of that batch.
 */
export class CoalescingBatchReader {
  /** Misses waiting for a batch, in arrival order. */
  private readonly queued = new Map<string, PendingRead>()
  /** Reads in a batch that is in flight (a late caller of the same digest joins them). */
  private readonly sent = new Map<string, PendingRead>()
  private inFlight = 0
  private scheduled = false
  private readonly maxInFlight: number
  private readonly maxBlobsPerBatch: number

  constructor (private readonly init: CoalescingBatchReaderInit) {
    this.maxInFlight = init.maxInFlight ?? BATCH_READS_IN_FLIGHT
    this.maxBlobsPerBatch = init.maxBlobsPerBatch ?? BATCH_READ_MAX_BLOBS
    if (!(Number.isInteger(this.maxInFlight) && this.maxInFlight >= 1)) throw new RangeError(`maxInFlight must be an integer >= 1, got ${this.maxInFlight}`)
    if (!(Number.isInteger(this.maxBlobsPerBatch) && this.maxBlobsPerBatch >= 1)) throw new RangeError(`maxBlobsPerBatch must be an integer >= 1, got ${this.maxBlobsPerBatch}`)
  }

  /**
   * Fetches one small blob into the store. Resolves true once it is stored (verified), false if
   * the central does not have it. Rejects with the blob's own failure (corrupt bytes, a failed
   * call), or with {@link CentralTimeoutError} when `signal` fires first.
   */
  async read (digest: Digest, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted()
    const key = formatDigest(digest)
    let pending = this.sent.get(key) ?? this.queued.get(key)
    if (pending === undefined) {
      pending = { digest, key, result: Promise.withResolvers<boolean>(), waiters: 0 }
      // Everyone may have given up by the time it settles.
      pending.result.promise.catch(() => {})
      this.queued.set(key, pending)
      this.schedule()
    }
    return await this.wait(pending, signal)
  }

  private async wait (pending: PendingRead, signal: AbortSignal): Promise<boolean> {
    pending.waiters++
    let onAbort: (() => void) | undefined
    try {
      return await Promise.race([pending.result.promise, new Promise<never>((_resolve, reject) => {
        onAbort = () => {
          const reason = signal.reason as Error | undefined
          reject(reason?.name === 'TimeoutError'
            ? new CentralTimeoutError(`central did not deliver ${pending.key} in time (${this.queued.has(pending.key) ? 'still waiting for a batch' : 'batch in flight'})`, { cause: reason })
            : reason)
        }
        signal.addEventListener('abort', onAbort, { once: true })
      })])
    } finally {
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
      if (--pending.waiters === 0 && this.queued.get(pending.key) === pending) this.queued.delete(pending.key)
    }
  }

  /** Sends what is queued at the end of this event-loop turn, if a call may go out. */
  private schedule (): void {
    if (this.scheduled || this.queued.size === 0 || this.inFlight >= this.maxInFlight) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      while (this.queued.size > 0 && this.inFlight < this.maxInFlight) {
        const batch = this.takeBatch()
        this.inFlight++
        void this.send(batch).finally(() => {
          this.inFlight--
          this.schedule()
        })
      }
    })
  }

  /**
   * Takes queued reads, oldest first, while they fit the central's batch limit (the sum of the
   * blob sizes, which is what servers check) and {@link CoalescingBatchReaderInit.maxBlobsPerBatch}.
   * The oldest always goes, so nothing starves.
   */
  private takeBatch (): PendingRead[] {
    const limitBytes = this.init.client.capabilities?.maxBatchBytes ?? BATCH_READ_THRESHOLD_BYTES
    const batch: PendingRead[] = []
    let bytes = 0
    for (const pending of this.queued.values()) {
      if (batch.length >= this.maxBlobsPerBatch) break
      if (batch.length > 0 && bytes + pending.digest.sizeBytes > limitBytes) continue
      batch.push(pending)
      bytes += pending.digest.sizeBytes
    }
    for (const pending of batch) {
      this.queued.delete(pending.key)
      this.sent.set(pending.key, pending)
    }
    return batch
  }

  private async send (batch: PendingRead[]): Promise<void> {
    try {
      const outcomes = await this.init.client.batchReadInto(batch.map((p) => p.digest), this.init.store, AbortSignal.timeout(this.init.clientWaitMs), this.init.clientWaitMs)
      for (const pending of batch) {
        const outcome = outcomes.get(pending.key)
        if (outcome?.stored === false && outcome.error !== undefined) pending.result.reject(outcome.error)
        else pending.result.resolve(outcome?.stored === true)
      }
    } catch (error) {
      for (const pending of batch) pending.result.reject(error)
    } finally {
      for (const pending of batch) this.sent.delete(pending.key)
    }
  }
}

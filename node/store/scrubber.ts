import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from '../log/logger.js'
import { SCRUB_PAGE_ENTRIES, SCRUB_PAGE_PAUSE_MS, SCRUB_PASS_INTERVAL_MS, SCRUB_START_DELAY_MS } from './constants.js'
import type { Digest } from './digest.js'

/** Waits as long as reading `bytes` more takes at the scrub rate. */
export type Pace = (bytes: number) => Promise<void>

/** What the {@link Scrubber} needs from the store it checks. */
export interface ScrubberInit {
  /** Bytes hashed per second, on average over a pass; 0 turns the scrubber off. */
  rateBytesPerSec: number
  /**
   * The file blobs among the next `limit` index entries after the key `after`, and the last key
   * read (`undefined` at the end of the index).
   */
  fileBlobs: (after: string | undefined, limit: number) => Promise<{ blobs: Digest[], last: string | undefined }>
  /** True when the blob's bytes were checked since the store opened (the first pass skips it). */
  isVerified: (hash: string) => boolean
  /**
   * Re-hashes a blob file, reading through `pace`; a file that does not match its digest is
   * quarantined. Resolves false when the blob was found bad.
   */
  check: (digest: Digest, pace: Pace, signal: AbortSignal) => Promise<boolean>
  logger: Logger
  /** @default 86400000 ({@link SCRUB_PASS_INTERVAL_MS}) */
  passIntervalMs?: number
  /** Wait before the first pass. @default 120000 ({@link SCRUB_START_DELAY_MS}) */
  startDelayMs?: number
}

/** What the scrubber has done since the store opened. */
export interface ScrubStats {
  passes: number
  checkedBlobs: number
  checkedBytes: number
  badBlobs: number
}

/**
 * Verifies blob files in the background at a bounded rate, so that bit rot in a blob nobody
 * reads is found (and the blob quarantined, to be fetched again from a tier on its next read).
 * The first pass starts at once and skips blobs already verified by a read since start; later
 * passes check every file blob again.
 */
export class Scrubber {
  readonly stats: ScrubStats = { passes: 0, checkedBlobs: 0, checkedBytes: 0, badBlobs: 0 }
  private readonly controller = new AbortController()
  private running: Promise<void> | undefined
  private paceStart = 0
  private pacedBytes = 0

  constructor (private readonly init: ScrubberInit) {
    if (!(init.rateBytesPerSec >= 0) || !Number.isFinite(init.rateBytesPerSec)) throw new RangeError(`scrub rate must be 0 (off) or a positive number of bytes/s, got ${init.rateBytesPerSec}`)
  }

  /** Starts the background passes (nothing when the rate is 0). */
  start (): void {
    if (this.init.rateBytesPerSec === 0 || this.running !== undefined) return
    this.running = this.loop().catch((error: unknown) => {
      if (!this.controller.signal.aborted) this.init.logger.warn('blob scrubber stopped', { error })
    })
  }

  /** Stops the passes and waits for the blob being checked. */
  async stop (): Promise<void> {
    this.controller.abort(new Error('store closing'))
    await this.running
  }

  private async loop (): Promise<void> {
    const signal = this.controller.signal
    const interval = this.init.passIntervalMs ?? SCRUB_PASS_INTERVAL_MS
    const delay = this.init.startDelayMs ?? SCRUB_START_DELAY_MS
    if (delay > 0) await sleep(delay, undefined, { signal })
    for (let pass = 0; !signal.aborted; pass++) {
      const started = performance.now()
      await this.pass(pass === 0, signal)
      this.stats.passes++
      const wait = interval - (performance.now() - started)
      if (wait > 0) await sleep(wait, undefined, { signal })
    }
  }

  private async pass (first: boolean, signal: AbortSignal): Promise<void> {
    const log = this.init.logger
    const before = { ...this.stats }
    this.paceStart = performance.now()
    this.pacedBytes = 0
    let after: string | undefined
    for (;;) {
      const page = await this.init.fileBlobs(after, SCRUB_PAGE_ENTRIES)
      if (page.last === undefined) break
      for (const digest of page.blobs) {
        signal.throwIfAborted()
        if (first && this.init.isVerified(digest.hash)) continue
        const good = await this.init.check(digest, async (bytes) => { await this.pace(bytes, signal) }, signal)
        this.stats.checkedBlobs++
        this.stats.checkedBytes += digest.sizeBytes
        if (!good) this.stats.badBlobs++
      }
      after = page.last
      await sleep(SCRUB_PAGE_PAUSE_MS, undefined, { signal })
    }
    log.info('blob scrub pass done', {
      checkedBlobs: this.stats.checkedBlobs - before.checkedBlobs,
      checkedBytes: this.stats.checkedBytes - before.checkedBytes,
      badBlobs: this.stats.badBlobs - before.badBlobs,
      ms: Math.round(performance.now() - this.paceStart)
    })
  }

  private async pace (bytes: number, signal: AbortSignal): Promise<void> {
    this.pacedBytes += bytes
    const now = performance.now()
    const due = this.paceStart + this.pacedBytes / this.init.rateBytesPerSec * 1000
    // Fell behind (a slow disk, a busy loop): start over from now rather than catch up in a burst.
    if (due < now - 1000) { this.paceStart = now; this.pacedBytes = 0; return }
    if (due > now) await sleep(due - now, undefined, { signal })
  }
}

import { sleep } from './retry.js'

/** Caps how many operations run at once. */
export class Semaphore {
  private active = 0
  private readonly waiting: Array<() => void> = []

  constructor (private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`)
  }

  /** Runs `task` once a slot is free. */
  async run<T> (task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => { this.waiting.push(resolve) })
    this.active++
    try {
      return await task()
    } finally {
      this.active--
      this.waiting.shift()?.()
    }
  }
}

/**
 * Paces bytes to `bytesPerSecond` (0 = unlimited), allowing a burst of one second's worth so
 * short uploads are not delayed.
 */
export class RateLimiter {
  private nextFreeAt = 0

  constructor (private readonly bytesPerSecond: number) {
    if (!(bytesPerSecond >= 0)) throw new RangeError(`upload rate must be >= 0 bytes/s, got ${bytesPerSecond}`)
  }

  /** Waits until `bytes` may be sent. */
  async take (bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.bytesPerSecond === 0 || bytes === 0) return
    const now = Date.now()
    const start = Math.max(this.nextFreeAt, now - 1000)
    this.nextFreeAt = start + (bytes / this.bytesPerSecond) * 1000
    const wait = this.nextFreeAt - now
    if (wait > 0) await sleep(wait, signal)
  }
}

import { sleep } from './sleep.js'

/**
 * A token bucket of bytes per second with one second of burst. A rate of 0 means unlimited.
 * `take` waits (cancellably) until the bytes may be sent.
 */
export class TokenBucket {
  private tokens: number
  private last = Date.now()

  constructor (readonly ratePerSecond: number) {
    if (!(ratePerSecond >= 0)) throw new RangeError(`rate ${ratePerSecond} bytes/s is negative`)
    this.tokens = ratePerSecond
  }

  /** Spends `n` bytes if they are allowed now (no burst overdraft); false, spending nothing, if not. */
  tryTake (n: number): boolean {
    if (this.ratePerSecond === 0) return true
    this.refill()
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }

  /** Adds the tokens earned since the last call, up to one second's worth. */
  private refill (): void {
    const now = Date.now()
    this.tokens = Math.min(this.ratePerSecond, this.tokens + (now - this.last) / 1000 * this.ratePerSecond)
    this.last = now
  }

  /** Gives back `n` bytes taken by {@link TokenBucket.tryTake} that were not sent after all. */
  refund (n: number): void {
    if (this.ratePerSecond === 0) return
    this.tokens = Math.min(this.ratePerSecond, this.tokens + n)
  }

  /** Waits until `n` bytes are allowed, then spends them. */
  async take (n: number, signal?: AbortSignal): Promise<void> {
    if (this.ratePerSecond === 0) return
    for (;;) {
      this.refill()
      // A chunk larger than the burst is allowed once the bucket is full, so it cannot starve.
      if (this.tokens >= Math.min(n, this.ratePerSecond)) {
        this.tokens -= n
        return
      }
      const waitMs = Math.ceil((Math.min(n, this.ratePerSecond) - this.tokens) / this.ratePerSecond * 1000)
      await sleep(waitMs, signal)
    }
  }
}

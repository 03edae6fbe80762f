import { sleep } from './sleep.js'

/** Options of {@link Backoff} and {@link backoffDelay}. */
export interface BackoffInit {
  /** Delay after the first failure, before jitter, ms. Doubles with each failure in a row. */
  baseMs: number
  /** Longest delay, before jitter, ms. */
  maxMs: number
  /**
   * Share of each delay that is random: the delay after failure n is drawn uniformly from
   * [d·(1 − jitter), d], d = min(maxMs, baseMs·2^(n−1)). 1 ("full jitter") spreads out many
   * nodes that failed at the same moment; 0 gives exactly d.
   * @default 1
   */
  jitter?: number
}

/** Checks `init`, throwing a RangeError naming the bad value. */
function checkBackoff (init: BackoffInit): void {
  const { baseMs, maxMs, jitter = 1 } = init
  if (!(Number.isFinite(baseMs) && baseMs >= 0)) throw new RangeError(`backoff base ${baseMs} ms is not a finite duration >= 0`)
  if (!(Number.isFinite(maxMs) && maxMs >= baseMs)) throw new RangeError(`backoff maximum ${maxMs} ms is not a finite duration >= the base (${baseMs} ms)`)
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`backoff jitter ${jitter} is not between 0 and 1`)
}

/**
 * The delay after the `failures`-th failure in a row (1 for the first): exponential from
 * `baseMs`, capped at `maxMs`, with `jitter` (see {@link BackoffInit}).
 */
export function backoffDelay (failures: number, init: BackoffInit): number {
  if (!(Number.isInteger(failures) && failures >= 1)) throw new RangeError(`failure count ${failures} is not a positive integer`)
  checkBackoff(init)
  return delayOf(failures, init)
}

function delayOf (failures: number, { baseMs, maxMs, jitter = 1 }: BackoffInit): number {
  // The exponent is capped so that a long run of failures cannot overflow to Infinity or NaN.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 64))
  return ceiling * (1 - jitter * Math.random())
}

/**
 * The delays of one thing retried over and over: each {@link Backoff.next} is the delay after one
 * more failure in a row, {@link Backoff.reset} starts again from the base after a success.
 */
export class Backoff {
  private count = 0

  constructor (private readonly init: BackoffInit) {
    checkBackoff(init)
  }

  /** Failures in a row so far. */
  get failures (): number { return this.count }

  /** Counts one more failure and returns how long to wait before the next attempt, ms. */
  next (): number {
    this.count++
    return delayOf(this.count, this.init)
  }

  /** After a success: the next failure waits the base delay again. */
  reset (): void {
    this.count = 0
  }
}

/** Options of {@link retry}. */
export interface RetryOptions extends BackoffInit {
  /** Attempts, the first included. @default unlimited */
  maxAttempts?: number
  /** Ends the retries: no attempt starts and no wait continues once it aborts. */
  signal?: AbortSignal
  /** Whether a failure is worth another attempt. @default every failure is */
  retryable?: (error: unknown) => boolean
}

/**
 * Runs `attempt` (with its number, 1 for the first) until it succeeds, then resolves with its
 * result. Between failures it waits as a {@link Backoff} says. Rejects with the last failure when
 * `retryable` says no, when `maxAttempts` is used up, or when `signal` aborts during an attempt;
 * with `signal.reason` when it aborts before an attempt or during a wait.
 */
export async function retry<T> (attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { maxAttempts = Infinity, signal, retryable } = options
  if (!(maxAttempts === Infinity || (Number.isInteger(maxAttempts) && maxAttempts >= 1))) throw new RangeError(`maxAttempts ${maxAttempts} is not a positive integer`)
  const backoff = new Backoff(options)
  for (let n = 1; ; n++) {
    signal?.throwIfAborted()
    try {
      return await attempt(n)
    } catch (error) {
      if (n >= maxAttempts || signal?.aborted === true || (retryable !== undefined && !retryable(error))) throw error
      await sleep(backoff.next(), signal)
    }
  }
}

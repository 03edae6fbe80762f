import { setTimeout as delay } from 'node:timers/promises'

/** Options of {@link sleep}. */
export interface SleepOptions {
  /**
   * Whether the pending timer keeps the process alive (a background retry need not).
   * @default true
   */
  ref?: boolean
}

/**
 * Resolves after `ms`, or rejects with `signal.reason` when `signal` aborts (also when it already
 * has): the same reason the caller's other waits on that signal reject with.
 */
export async function sleep (ms: number, signal?: AbortSignal, options: SleepOptions = {}): Promise<void> {
  try {
    await delay(ms, undefined, { signal, ref: options.ref ?? true })
  } catch (error) {
    // node:timers/promises rejects with its own AbortError (reason as `cause`).
    if (signal?.aborted === true) throw signal.reason
    throw error
  }
}

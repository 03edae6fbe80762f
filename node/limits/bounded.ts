/** Options of {@link forEachBounded} and {@link findBounded}. */
export interface BoundedOptions {
  /** Once it aborts no further call starts, and the run rejects with its reason. */
  signal?: AbortSignal
}

/**
 * Calls `fn` on each item, in order, with at most `limit` calls running at a time; resolves once
 * all have finished. After a call fails (or `signal` aborts) no further call starts: the run waits
 * for the calls still running, then rejects with the first failure (or the signal's reason).
 * `items` is read lazily, so it may be a generator.
 */
export async function forEachBounded<T> (items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>, options: BoundedOptions = {}): Promise<void> {
  await runBounded(items, limit, async (item) => { await fn(item); return false }, options.signal)
}

/**
 * Calls `predicate` on items, in order, with at most `limit` calls running at a time, until one
 * resolves true; resolves with that item, or `undefined` if there is none. When several hold, the
 * first to be found wins (which need not be the earliest in `items`). Once one is found no further
 * call starts, and the calls still running are awaited. Failures and `signal` are handled as in
 * {@link forEachBounded}.
 */
export async function findBounded<T> (items: Iterable<T>, limit: number, predicate: (item: T) => Promise<boolean>, options: BoundedOptions = {}): Promise<T | undefined> {
  let found: { item: T } | undefined
  await runBounded(items, limit, async (item) => {
    if (!(await predicate(item))) return false
    found ??= { item }
    return true
  }, options.signal)
  return found?.item
}

/** Runs `fn` over `items` with `limit` workers; a call resolving true stops the others taking more. */
async function runBounded<T> (items: Iterable<T>, limit: number, fn: (item: T) => Promise<boolean>, signal: AbortSignal | undefined): Promise<void> {
  if (!(Number.isInteger(limit) && limit > 0)) throw new RangeError(`concurrency limit ${limit} is not a positive integer`)
  signal?.throwIfAborted()
  const iterator = items[Symbol.iterator]()
  let stopped = false
  let failure: { error: unknown } | undefined
  const worker = async (): Promise<void> => {
    while (!stopped && failure === undefined) {
      if (signal?.aborted === true) {
        failure = { error: signal.reason }
        return
      }
      try {
        const next = iterator.next()
        if (next.done === true) return
        if (await fn(next.value)) stopped = true
      } catch (error) {
        failure ??= { error }
      }
    }
  }
  const workers = Array.isArray(items) ? Math.min(limit, items.length) : limit
  await Promise.all(Array.from({ length: workers }, worker))
  if (failure !== undefined) throw failure.error
}

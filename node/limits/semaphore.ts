/** A counting semaphore; `acquire` waits in FIFO order. */
export class Semaphore {
  private active = 0
  private readonly waiters: Array<() => void> = []

  constructor (readonly limit: number) {
    if (!(Number.isInteger(limit) && limit > 0)) throw new RangeError(`semaphore limit ${limit} is not a positive integer`)
  }

  /** Takes a slot without waiting; false when none is free. */
  tryAcquire (): boolean {
    if (this.active >= this.limit) return false
    this.active++
    return true
  }

  /** Waits for a slot. */
  async acquire (signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire()) return
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => { signal?.removeEventListener('abort', onAbort); resolve() }
      const onAbort = (): void => {
        const i = this.waiters.indexOf(grant)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(signal?.reason)
      }
      this.waiters.push(grant)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Frees a slot. */
  release (): void {
    const next = this.waiters.shift()
    if (next !== undefined) next()
    else this.active--
  }

  /** Runs `task` in a slot, waiting for one first. */
  async run<T> (task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal)
    try {
      return await task()
    } finally {
      this.release()
    }
  }
}

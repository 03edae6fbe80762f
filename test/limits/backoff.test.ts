import { describe, expect, it } from 'vitest'
import { Backoff, backoffDelay, retry } from '../../node/limits/index.js'

describe('backoff delays', () => {
  it('doubles from the base up to the maximum when there is no jitter', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, { baseMs: 100, maxMs: 1000, jitter: 0 }))
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000])
  })

  it('stays at the maximum (never Infinity or NaN) after thousands of failures, even from a zero base', () => {
    expect(backoffDelay(5000, { baseMs: 100, maxMs: 1000, jitter: 0 })).toBe(1000)
    expect(backoffDelay(5000, { baseMs: 0, maxMs: 1000, jitter: 0 })).toBe(0)
  })

  it('draws full-jitter delays from zero up to the step', () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(3, { baseMs: 100, maxMs: 1000 }))
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThanOrEqual(400)
    }
    // Spread over the range, not one value: some in the lower and some in the upper quarter.
    expect(delays.some((d) => d < 100)).toBe(true)
    expect(delays.some((d) => d > 300)).toBe(true)
  })

  it('draws partial-jitter delays from the top share of the step only', () => {
    for (let i = 0; i < 2000; i++) {
      const delay = backoffDelay(2, { baseMs: 1000, maxMs: 60_000, jitter: 0.25 })
      expect(delay).toBeGreaterThanOrEqual(1500)
      expect(delay).toBeLessThanOrEqual(2000)
    }
  })

  it('rejects bad options with a RangeError naming the value', () => {
    expect(() => new Backoff({ baseMs: -1, maxMs: 10 })).toThrow(/-1/)
    expect(() => new Backoff({ baseMs: Number.NaN, maxMs: 10 })).toThrow(RangeError)
    expect(() => new Backoff({ baseMs: 100, maxMs: 50 })).toThrow(/50/)
    expect(() => new Backoff({ baseMs: 100, maxMs: Infinity })).toThrow(RangeError)
    expect(() => new Backoff({ baseMs: 1, maxMs: 10, jitter: 1.5 })).toThrow(/1\.5/)
    expect(() => backoffDelay(0, { baseMs: 1, maxMs: 10 })).toThrow(/failure count 0/)
  })

  it('counts failures in a row and starts again from the base after a reset', () => {
    const backoff = new Backoff({ baseMs: 10, maxMs: 1000, jitter: 0 })
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([10, 20, 40])
    expect(backoff.failures).toBe(3)
    backoff.reset()
    expect(backoff.failures).toBe(0)
    expect(backoff.next()).toBe(10)
  })
})

describe('retry', () => {
  it('resolves with the first success, numbering the attempts from 1', async () => {
    const seen: number[] = []
    const result = await retry(async (n) => {
      seen.push(n)
      if (n < 3) throw new Error(`failure ${n}`)
      return 'ok'
    }, { baseMs: 0, maxMs: 0 })
    expect(result).toBe('ok')
    expect(seen).toEqual([1, 2, 3])
  })

  it('makes exactly maxAttempts attempts, then rejects with the last failure', async () => {
    let attempts = 0
    await expect(retry(async (n) => { attempts++; throw new Error(`failure ${n}`) }, { baseMs: 0, maxMs: 1, maxAttempts: 4 }))
      .rejects.toThrow('failure 4')
    expect(attempts).toBe(4)
  })

  it('stops at the first failure that is not retryable', async () => {
    const errors: unknown[] = []
    let attempts = 0
    await expect(retry(async (n) => { attempts++; throw new Error(n === 1 ? 'transient' : 'final') }, {
      baseMs: 0,
      maxMs: 0,
      retryable: (error) => { errors.push(error); return (error as Error).message === 'transient' }
    })).rejects.toThrow('final')
    expect(attempts).toBe(2)
    expect(errors.map((e) => (e as Error).message)).toEqual(['transient', 'final'])
  })

  it('ends a backoff wait as soon as the signal aborts, with its reason', async () => {
    const controller = new AbortController()
    const reason = new Error('node stopping')
    let attempts = 0
    const running = retry(async () => {
      attempts++
      // Abort once the (60 s) wait after this failure has begun.
      setImmediate(() => { controller.abort(reason) })
      throw new Error('unavailable')
    }, { baseMs: 60_000, maxMs: 60_000, jitter: 0, signal: controller.signal })
    await expect(running).rejects.toBe(reason)
    expect(attempts).toBe(1)
  }, 5000)

  it('makes no attempt when the signal has already aborted', async () => {
    let attempts = 0
    const reason = new Error('gone')
    await expect(retry(async () => { attempts++ }, { baseMs: 0, maxMs: 0, signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    expect(attempts).toBe(0)
  })

  it('rejects with the attempt\'s own failure when the signal aborts during the attempt', async () => {
    const controller = new AbortController()
    let attempts = 0
    await expect(retry(async () => {
      attempts++
      controller.abort()
      throw new Error('cut off')
    }, { baseMs: 0, maxMs: 0, signal: controller.signal })).rejects.toThrow('cut off')
    expect(attempts).toBe(1)
  })

  it('rejects a maxAttempts that is not a positive integer', async () => {
    await expect(retry(async () => 1, { baseMs: 0, maxMs: 0, maxAttempts: 0 })).rejects.toThrow(RangeError)
    await expect(retry(async () => 1, { baseMs: 0, maxMs: 0, maxAttempts: 2.5 })).rejects.toThrow(/2\.5/)
  })
})

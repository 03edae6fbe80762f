import { describe, expect, it } from 'vitest'
import { findBounded, forEachBounded } from '../../node/limits/index.js'

/** A promise settled from outside. */
function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}

/** Lets every pending microtask and immediate run. */
async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** Whether `promise` has settled yet (after letting pending work run). */
async function isSettled (promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  promise.then(() => { settled = true }, () => { settled = true })
  await settle()
  return settled
}

describe('forEachBounded', () => {
  it('calls fn once per item, in order, never more than the limit at a time', async () => {
    const items = Array.from({ length: 40 }, (_, i) => i)
    const started: number[] = []
    let running = 0
    let most = 0
    await forEachBounded(items, 4, async (item) => {
      started.push(item)
      running++
      most = Math.max(most, running)
      // Uneven durations, so calls finish out of order.
      for (let i = 0; i < item % 5; i++) await new Promise((resolve) => setImmediate(resolve))
      running--
    })
    expect(started).toEqual(items)
    expect(most).toBe(4)
    expect(running).toBe(0)
  })

  it('runs all items at once when the limit exceeds their number, and does nothing for none', async () => {
    let running = 0
    let most = 0
    await forEachBounded([1, 2, 3], 10, async () => {
      running++
      most = Math.max(most, running)
      await settle()
      running--
    })
    expect(most).toBe(3)
    let calls = 0
    await forEachBounded([], 3, async () => { calls++ })
    expect(calls).toBe(0)
  })

  it('starts nothing after a failure and rejects with it only once the calls still running have finished', async () => {
    const started: number[] = []
    const slow = deferred()
    let slowFinished = false
    const run = forEachBounded([0, 1, 2, 3, 4], 2, async (item) => {
      started.push(item)
      if (item === 0) throw new Error('item 0 failed')
      await slow.promise
      slowFinished = true
    })
    expect(await isSettled(run)).toBe(false)
    slow.resolve()
    await expect(run).rejects.toThrow('item 0 failed')
    expect(slowFinished).toBe(true)
    expect(started).toEqual([0, 1])
  })

  it('starts nothing once the signal aborts and rejects with its reason', async () => {
    const controller = new AbortController()
    const reason = new Error('sync cancelled')
    const started: number[] = []
    const run = forEachBounded([0, 1, 2, 3, 4, 5], 1, async (item) => {
      started.push(item)
      if (item === 2) controller.abort(reason)
    }, { signal: controller.signal })
    await expect(run).rejects.toBe(reason)
    expect(started).toEqual([0, 1, 2])
  })

  it('calls nothing when the signal has already aborted', async () => {
    let calls = 0
    await expect(forEachBounded([1, 2], 2, async () => { calls++ }, { signal: AbortSignal.abort(new Error('stopped')) })).rejects.toThrow('stopped')
    expect(calls).toBe(0)
  })

  it('rejects a limit that is not a positive integer, naming it', async () => {
    await expect(forEachBounded([1], 0, async () => {})).rejects.toThrow(RangeError)
    await expect(forEachBounded([1], 1.5, async () => {})).rejects.toThrow(/1\.5/)
  })
})

describe('findBounded', () => {
  it('finds the item whose check holds and starts no check after it is found', async () => {
    const checked: number[] = []
    const found = await findBounded(Array.from({ length: 100 }, (_, i) => i), 4, async (item) => {
      checked.push(item)
      await settle()
      return item === 10
    })
    expect(found).toBe(10)
    // Checks already running when 10 was found may finish; no new ones start.
    expect(checked.length).toBeLessThanOrEqual(10 + 4)
  })

  it('resolves undefined after checking every item when none holds', async () => {
    const checked: string[] = []
    expect(await findBounded(['a', 'b', 'c'], 2, async (item) => { checked.push(item); return false })).toBeUndefined()
    expect(checked.sort()).toEqual(['a', 'b', 'c'])
  })

  it('reads a generator lazily, so an endless one ends at the first match', async () => {
    let pulled = 0
    function * naturals (): Generator<number> {
      for (let n = 0; ; n++) { pulled++; yield n }
    }
    expect(await findBounded(naturals(), 3, async (n) => n === 7)).toBe(7)
    expect(pulled).toBeLessThanOrEqual(7 + 1 + 3)
  })

  it('waits for the checks still running before it resolves', async () => {
    const slow = deferred()
    let slowFinished = false
    const run = findBounded([0, 1], 2, async (item) => {
      if (item === 1) return true
      await slow.promise
      slowFinished = true
      return false
    })
    expect(await isSettled(run)).toBe(false)
    slow.resolve()
    expect(await run).toBe(1)
    expect(slowFinished).toBe(true)
  })

  it('rejects with a check\'s failure', async () => {
    await expect(findBounded([1, 2, 3], 2, async (item) => { if (item === 2) throw new Error('tier failed'); return false })).rejects.toThrow('tier failed')
  })
})

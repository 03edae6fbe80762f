import { describe, expect, it } from 'vitest'
import { sleep } from '../../node/limits/index.js'

const activeTimers = (): number => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length

describe('sleep', () => {
  it('resolves once the delay has passed', async () => {
    const start = performance.now()
    await sleep(30)
    // Timers may fire a fraction of a millisecond early by this clock; never many milliseconds.
    expect(performance.now() - start).toBeGreaterThanOrEqual(28)
  })

  it('rejects with the signal\'s own reason when it aborts during the wait', async () => {
    const controller = new AbortController()
    const reason = new Error('shutting down')
    const waiting = sleep(60_000, controller.signal)
    controller.abort(reason)
    await expect(waiting).rejects.toBe(reason)
  }, 5000)

  it('rejects with the signal\'s reason when it has already aborted', async () => {
    const reason = new Error('already stopped')
    await expect(sleep(60_000, AbortSignal.abort(reason))).rejects.toBe(reason)
  }, 5000)

  it('rejects with a TimeoutError when a timeout signal ends the wait, as callers that tell a deadline from a cancel expect', async () => {
    await expect(sleep(60_000, AbortSignal.timeout(10))).rejects.toMatchObject({ name: 'TimeoutError' })
  }, 5000)

  it('does not keep the process alive with ref: false, and does by default', async () => {
    const before = activeTimers()
    const controller = new AbortController()
    const unref = sleep(60_000, controller.signal, { ref: false }).catch(() => {})
    expect(activeTimers()).toBe(before)
    const ref = sleep(60_000, controller.signal).catch(() => {})
    expect(activeTimers()).toBe(before + 1)
    controller.abort()
    await Promise.all([unref, ref])
  }, 5000)
})

import { describe, it, expect } from 'vitest'
import { Progress, formatDuration } from '../../node/cli/progress.js'

/** A fake stderr that records what is written. */
function output (isTTY: boolean, columns = 80): { text: string[], write: (t: string) => void, isTTY: boolean, columns: number } {
  const text: string[] = []
  return { text, write: (t: string) => { text.push(t) }, isTTY, columns }
}

describe('progress display', () => {
  it('never draws a terminal line wider than the terminal, with bar, percentage, amount, rate and ETA', () => {
    for (const columns of [40, 80, 200]) {
      const out = output(true, columns)
      let now = 0
      const p = new Progress({ label: 'flush', unit: 'items', out, now: () => now })
      for (let done = 0; done <= 100; done += 10) {
        now += 1000
        p.update({ done, total: 100, note: 'central CAS offline (14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:9)' })
      }
      for (const chunk of out.text) {
        // eslint-disable-next-line no-control-regex
        const visible = chunk.replace(/\r|\u001b\[K/g, '')
        expect(visible.length, `${columns} columns: ${visible}`).toBeLessThan(columns)
      }
      if (columns >= 80) expect(out.text[5]).toMatch(/^\rflush \[#{15}\.{15}\] 50% {2}50\/100 items {2}10\/s {2}ETA 0:05 {2}cent/)
    }
  })

  it('writes plain lines at most every interval and does not repeat an unchanged note', () => {
    const out = output(false)
    let now = 0
    const p = new Progress({ label: 'sync', unit: 'items', out, now: () => now, plainIntervalMs: 5000 })
    for (let i = 1; i <= 30; i++) {
      now = i * 1000
      p.update({ done: i, total: 30, note: 'central CAS offline' })
    }
    p.finish('30 items fetched')
    expect(out.text).toHaveLength(7)
    expect(out.text[0]).toMatch(/^sync: 16% 5\/30 items .* — central CAS offline\n$/)
    expect(out.text[1]).not.toContain('central CAS offline')
    expect(out.text[6]).toBe('sync: 30 items fetched\n')
  })

  it('shows no percentage when the total is unknown', () => {
    const out = output(true)
    const p = new Progress({ label: 'gc', out, now: () => 0 })
    p.update({ done: 0, total: 0, note: 'evicting' })
    expect(out.text[0]).not.toMatch(/%/)
    expect(formatDuration(3725)).toBe('1:02:05')
  })
})

import { formatBytes } from '../config/sizes.js'

/** What a progress display writes to: stderr, or a stream in tests. */
export interface ProgressOutput {
  write(text: string): unknown
  /** True on a terminal: one line redrawn in place. */
  isTTY?: boolean
  /** Terminal width. @default 80 */
  columns?: number
}

/** Options of {@link Progress}. */
export interface ProgressInit {
  /** Word in front of every line: `get`, `sync`. */
  label: string
  /** What `done`/`total` count: bytes are shown as sizes with a byte rate. @default 'bytes' */
  unit?: 'bytes' | 'items'
  /** @default process.stderr */
  out?: ProgressOutput
  /** Least time between plain (non-terminal) lines. @default 5000 */
  plainIntervalMs?: number
  /** Least time between terminal redraws. @default 100 */
  redrawIntervalMs?: number
  /** Clock (ms). @default Date.now */
  now?: () => number
}

/** One progress report. */
export interface ProgressUpdate {
  done: number
  /** 0 when unknown: no bar, percentage or ETA. */
  total: number
  /** A short status, shown after the numbers; a plain line repeats it only when it changed. */
  note?: string
}

/**
 * Progress of a long command on stderr. On a terminal: one line, redrawn in place, never wider
 * than the terminal — bar, percentage, amount, rate and ETA. Otherwise: a plain line every few
 * seconds, so logs stay readable. {@link finish} prints the one-line summary.
 */
export class Progress {
  private readonly out: ProgressOutput
  private readonly unit: 'bytes' | 'items'
  private readonly now: () => number
  private readonly plainIntervalMs: number
  private readonly redrawIntervalMs: number
  private readonly started: number
  private lastDraw = -Infinity
  private lastNote: string | undefined
  private drawn = false
  /** Recent (time, done) samples for the rate: the last ~5 s. */
  private samples: Array<[number, number]> = []

  constructor (private readonly init: ProgressInit) {
    this.out = init.out ?? process.stderr
    this.unit = init.unit ?? 'bytes'
    this.now = init.now ?? Date.now
    this.plainIntervalMs = init.plainIntervalMs ?? 5000
    this.redrawIntervalMs = init.redrawIntervalMs ?? 100
    this.started = this.now()
    if (this.out.isTTY !== true) this.lastDraw = this.started
  }

  /** Seconds since the command started. */
  get elapsedSeconds (): number {
    return (this.now() - this.started) / 1000
  }

  /** Reports progress; draws only as often as the output allows. */
  update (update: ProgressUpdate): void {
    const t = this.now()
    this.samples.push([t, update.done])
    while (this.samples.length > 2 && t - this.samples[0]![0] > 5000) this.samples.shift()
    if (this.out.isTTY === true) {
      if (t - this.lastDraw < this.redrawIntervalMs) return
      this.lastDraw = t
      this.out.write(`\r${this.fitLine(update)}\u001b[K`)
      this.drawn = true
    } else {
      if (t - this.lastDraw < this.plainIntervalMs) return
      this.lastDraw = t
      const note = update.note !== undefined && update.note !== this.lastNote ? update.note : undefined
      this.lastNote = update.note
      this.out.write(`${this.init.label}: ${this.numbers(update, true).join(' ')}${note !== undefined && note !== '' ? ` — ${note}` : ''}\n`)
    }
  }

  /** Ends the display with one summary line (`get: 1.0 GiB in 19.2 s (53 MiB/s)`). */
  finish (summary: string): void {
    const width = this.width()
    const line = `${this.init.label}: ${summary}`
    if (this.out.isTTY === true) this.out.write(`${this.drawn ? '\r' : ''}${truncate(line, width)}\u001b[K\n`)
    else this.out.write(line + '\n')
  }

  /** Removes a drawn terminal line (when the command prints its result elsewhere). */
  clear (): void {
    if (this.out.isTTY === true && this.drawn) this.out.write('\r\u001b[K')
    this.drawn = false
  }

  /** Rate over the recent samples, per second (0 until there are two). */
  rate (): number {
    if (this.samples.length < 2) return 0
    const [t0, d0] = this.samples[0]!
    const [t1, d1] = this.samples[this.samples.length - 1]!
    return t1 > t0 ? (d1 - d0) * 1000 / (t1 - t0) : 0
  }

  private width (): number {
    return Math.max(20, (this.out.columns ?? 80) - 1)
  }

  private fitLine (update: ProgressUpdate): string {
    const width = this.width()
    const numbers = this.numbers(update, false).join('  ')
    const head = `${this.init.label} `
    let line = head
    if (update.total > 0) {
      // The bar gets what is left after the numbers, between 10 and 30 cells (none if no room).
      const room = width - head.length - numbers.length - 3
      const cells = Math.min(30, room)
      if (cells >= 10) {
        const filled = Math.round(Math.min(1, update.done / update.total) * cells)
        line += `[${'#'.repeat(filled)}${'.'.repeat(cells - filled)}] `
      }
    }
    line += numbers
    if (update.note !== undefined && update.note !== '' && line.length + 3 < width) line += `  ${update.note}`
    return truncate(line, width)
  }

  private numbers (update: ProgressUpdate, plain: boolean): string[] {
    const parts: string[] = []
    const amount = (n: number): string => this.unit === 'bytes' ? formatBytes(n) : String(n)
    if (update.total > 0) {
      parts.push(`${Math.floor(Math.min(1, update.done / update.total) * 100)}%`)
      parts.push(`${amount(update.done)}/${amount(update.total)}${this.unit === 'items' ? ' items' : ''}`)
    } else {
      parts.push(`${amount(update.done)}${this.unit === 'items' ? ' items' : ''}`)
    }
    const rate = this.rate()
    if (rate > 0) {
      parts.push(this.unit === 'bytes' ? `${formatBytes(rate)}/s` : `${rate.toFixed(rate < 10 ? 1 : 0)}/s`)
      if (update.total > update.done) parts.push(`ETA ${formatDuration((update.total - update.done) / rate)}`)
    }
    if (plain) parts.push(`(${formatDuration(this.elapsedSeconds)} elapsed)`)
    return parts
  }
}

/** `1:05`, `1:02:03` for seconds. */
export function formatDuration (seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`
}

/** `12.3 s` or `1:05` — how long a finished command took. */
export function formatElapsed (seconds: number): string {
  return seconds < 60 ? `${seconds.toFixed(1)} s` : formatDuration(seconds)
}

function truncate (line: string, width: number): string {
  return line.length <= width ? line : line.slice(0, width - 1) + '…'
}

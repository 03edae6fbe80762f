/** A one-line progress bar on stderr (plain lines when stderr is not a terminal). */
export class ProgressLine {
  private lastPlain = 0
  constructor (private readonly label: string, private readonly out: NodeJS.WriteStream = process.stderr) {}

  /** Redraws the bar at `done` of `total` with a trailing note. */
  update (done: number, total: number, note = ''): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 0
    if (this.out.isTTY === true) {
      const width = 30
      const filled = Math.round(fraction * width)
      this.out.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${note}\u001b[K`)
    } else if (Date.now() - this.lastPlain > 1000) {
      this.lastPlain = Date.now()
      this.out.write(`${this.label}: ${(fraction * 100).toFixed(0)}% ${note}\n`)
    }
  }

  /** Ends the bar with a final line. */
  finish (summary: string): void {
    this.out.write(`${this.out.isTTY === true ? '\r' : ''}${this.label}: ${summary}${this.out.isTTY === true ? '\u001b[K' : ''}\n`)
  }
}

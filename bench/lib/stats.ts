/** Median of a non-empty list. */
export function median (values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list')
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Largest value of a non-empty list (best-of-N throughput: noise only ever slows a run down). */
export function best (values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('best of an empty list')
  return Math.max(...values)
}

/** Megabytes (10^6 bytes) per second. */
export function mbPerSecond (bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000)
}

/** Rounds to `digits` significant decimals for reporting. */
export function round (value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** 1 KiB, 1 MiB, … for readable sizes. */
export const KiB = 1024
export const MiB = 1024 * 1024

/** `4 KiB`, `256 MiB`. */
export function formatSize (bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`
  return `${bytes} B`
}

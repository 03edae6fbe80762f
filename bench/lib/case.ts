/** One figure of the JSON line: a value, or `null` with the reason it could not be measured. */
export interface Figure {
  value: number | null
  /** Why the value is null, or what limits it. */
  note?: string
}

/** What a case gets from the harness. */
export interface BenchContext {
  /** `--quick`: smaller runs, same keys. */
  readonly quick: boolean
  /** A private temp directory for this case, removed afterwards. */
  readonly tmpDir: string
  /** When set (`--profile DIR`), servers run with `--cpu-prof` writing here. */
  readonly profileDir: string | undefined
  /** Prints one human-readable line. */
  log(line: string): void
  /** Supporting figures (MB/s, chart series…) for docs/benchmarks.md, keyed by case. */
  readonly detail: Record<string, unknown>
}

/** A benchmark case: one file in bench/cases/, producing some keys of the JSON line. */
export interface BenchCase {
  readonly name: string
  /** JSON keys this case produces (every one is present in the output, maybe null). */
  readonly keys: readonly string[]
  /** Skipped in `--quick` mode (its keys are null with a note). */
  readonly fullOnly?: boolean
  run(ctx: BenchContext): Promise<Record<string, Figure>>
}

/** Node flags for a server process when profiling is on. */
export function profileArgs (ctx: BenchContext, name: string): string[] {
  if (ctx.profileDir === undefined) return []
  return ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`, `--cpu-prof-name=${name}.cpuprofile`]
}

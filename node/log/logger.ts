/** Severity of a log line, from chattiest to most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** Structured fields attached to one log line. */
export type LogFields = Record<string, unknown>

/** A scoped, structured logger (one per component, e.g. `peercas:store`). */
export interface Logger {
  readonly scope: string
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
  /** A logger for a sub-component: `peercas:p2p` → `peercas:p2p:fetch`. */
  child(name: string): Logger
}

/** Where log lines go and which are kept. */
export interface LoggerInit {
  /** @default 'info' */
  level?: LogLevel
  /** Receives one JSON line per call. @default process.stderr.write */
  write?: (line: string) => void
}

/**
 * Creates a logger that writes one JSON object per line:
 * `{"time":"…","level":"info","scope":"peercas:store","msg":"…",…fields}`.
 */
export function createLogger (scope: string, init: LoggerInit = {}): Logger {
  const threshold = LEVEL_RANK[init.level ?? 'info']
  const write = init.write ?? ((line: string) => { process.stderr.write(line) })
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (LEVEL_RANK[level] < threshold) return
    const record: LogFields = { time: new Date().toISOString(), level, scope, msg: message }
    if (fields != null) {
      for (const [key, value] of Object.entries(fields)) {
        record[key] = value instanceof Error ? describeError(value) : value
      }
    }
    write(JSON.stringify(record) + '\n')
  }
  return {
    scope,
    debug: (m, f) => { emit('debug', m, f) },
    info: (m, f) => { emit('info', m, f) },
    warn: (m, f) => { emit('warn', m, f) },
    error: (m, f) => { emit('error', m, f) },
    child: (name) => createLogger(`${scope}:${name}`, init)
  }
}

/** A logger that drops everything (for library use and quiet tests). */
export const silentLogger: Logger = createLogger('peercas', { write: () => {} , level: 'error' })

function describeError (error: Error): string {
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : ''
  return `${error.name}: ${error.message}${cause}`
}

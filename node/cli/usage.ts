import { parseArgs, type ParseArgsConfig } from 'node:util'
import { SERVE_USAGE } from './serve-usage.js'
import { UsageError } from './errors.js'

const TARGET_HELP = `Finding the node:
  --socket PATH         the node's unix socket
  --data-dir DIR        the node's data dir (its node.json names the socket)
                        default: $PEERCAS_DATA_DIR, else $XDG_CACHE_HOME/peercas
  -h, --help            this help
`

/** Help text of every command, printed by `peercas COMMAND --help`. */
export const COMMAND_USAGE: Record<string, string> = {
  serve: SERVE_USAGE,
  status: `Usage: peercas status [--json] [--watch] [--interval SECONDS]

Shows a running node: store used and quota, blob lookups by tier (local, peer, central, miss)
since start and over the last hour, bytes fetched from peers and the central CAS, peers and why
they are in their state, this node's own multiaddrs (give them to teammates for --peer), and
the central CAS with its upload queue.

  --json                the full status as JSON
  --watch               redraw until Ctrl-C
  --interval SECONDS    how often --watch redraws (default 2)

${TARGET_HELP}`,
  put: `Usage: peercas put FILE

Uploads FILE to the node (verified by hash) and prints its digest HASH/SIZE on stdout.
Progress goes to stderr.

${TARGET_HELP}`,
  get: `Usage: peercas get HASH/SIZE [-o FILE]

Downloads a blob through the node (local store, then peers, then the central CAS), verifies
its hash and writes it to FILE (atomically: FILE appears only when complete) or to stdout.
Progress goes to stderr.

  -o, --output FILE     write to FILE instead of stdout

${TARGET_HELP}`,
  gc: `Usage: peercas gc [--json]

Evicts least-recently-used blobs down to the low watermark of the quota now, and says why
when it evicts nothing (below the watermark; blobs used in the last minute, being read or
waiting for upload are kept).

  --json                the result as JSON

${TARGET_HELP}`,
  flush: `Usage: peercas flush [--timeout DURATION]

Waits until every queued upload has reached the central CAS (e.g. before closing a laptop).
Exits 1 if the timeout ends first.

  --timeout DURATION    give up after DURATION (e.g. 10m); default: no limit

${TARGET_HELP}`,
  sync: `Usage: peercas sync PEER [--since DURATION] [--ac-only]

Pulls a peer's action cache and blobs into this node (e.g. before leaving the office).
PEER is a multiaddr with /p2p/ID, or the peer ID of a connected peer.

  --since DURATION      only entries newer than DURATION (e.g. 7d)
  --ac-only             only action results and the blobs they reference

${TARGET_HELP}`
}

/** Options every client command takes to find its node, plus --help. */
export const CLIENT_OPTIONS = {
  socket: { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' }
} as const

/** The outcome of {@link parseCommand}: `undefined` when --help was printed. */
export type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>> | undefined

/**
 * Parses a command's arguments strictly; prints its help and returns `undefined` for `--help`.
 * Wrong flags become a {@link UsageError} (exit status 2).
 */
export function parseCommand<T extends ParseArgsConfig> (command: string, config: T): Parsed<T> {
  const parsed = parseArgs(config)
  if ((parsed.values as Record<string, unknown>).help === true) {
    process.stdout.write(COMMAND_USAGE[command] ?? '')
    return undefined
  }
  return parsed
}

/** A usage error that names the command's synopsis. */
export function usageError (command: string, problem: string): UsageError {
  const synopsis = (COMMAND_USAGE[command] ?? '').split('\n')[0]?.replace(/^Usage: /, '') ?? ''
  return new UsageError(`${problem}; usage: ${synopsis}`)
}

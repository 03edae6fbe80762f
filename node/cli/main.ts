import { SERVE_USAGE } from './serve-usage.js'
import { get, gc, put, status, UsageError } from './client-commands.js'
import { flush, sync } from './stream-commands.js'
import { socket } from './socket-commands.js'
import { genPsk } from './gen-psk.js'

const USAGE = `Usage: peercas <command> [options]

Commands:
  serve                 run a cache node (see peercas serve --help)
  status [--json]       show a running node's store, hits, peers and central CAS
  put FILE              upload FILE, print HASH/SIZE
  get HASH/SIZE [-o F]  download a blob (verified) to F or stdout
  gc                    evict least-recently-used blobs down to the low watermark now
  flush [--timeout D]   wait until every queued upload has reached the central CAS
  sync PEER [--since D] [--ac-only]
                        pull a peer's action cache and blobs into this node (laptops)
  socket open --environment ID [--path P]
                        a socket for one build environment (a sandbox); prints its path
  socket close PATH     stop serving it and remove it
  gen-psk FILE [--force]
                        write a new team key (p2p runs only with one: serve --psk FILE)

Client commands find the node through --socket PATH or --data-dir DIR.
`

/** `serve` loads the whole node (libp2p, gRPC server, store): only when it is the command. */
const serve = async (argv: string[]): Promise<number> => await (await import('./serve.js')).serve(argv)

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = { serve, status, put, get, gc, flush, sync, socket, 'gen-psk': genPsk }

/** Entry point of the `peercas` command. Exits the process with the command's status. */
export async function main (argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + '\n' + SERVE_USAGE)
    process.exit(command === undefined ? 1 : 0)
  }
  const run = COMMANDS[command]
  if (run === undefined) {
    process.stderr.write(`peercas: unknown command "${command}"\n\n${USAGE}`)
    process.exit(2)
  }
  try {
    process.exitCode = await run(rest)
  } catch (error) {
    const e = error as Error & { code?: string }
    process.stderr.write(`peercas ${command}: ${e.message}\n`)
    process.exitCode = e instanceof UsageError || e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? 2 : 1
  }
  // Serve's open handles are gone by now; client commands' channels too. Exit promptly anyway.
  setTimeout(() => process.exit(), 100).unref()
}

import * as grpc from '@grpc/grpc-js'
import { readFileSync } from 'node:fs'
import { SERVE_USAGE } from './serve-usage.js'
import { get, gc, put, status } from './client-commands.js'
import { flush, sync } from './stream-commands.js'
import { socket } from './socket-commands.js'
import { genPsk } from './gen-psk.js'
import { EXIT_USAGE, describeFailure } from './errors.js'

const USAGE = `Usage: peercas <command> [options]

Commands:
  serve                 run a cache node (see peercas serve --help)
  status [--json]       show a running node's store, hits, peers, own addresses and central CAS
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

Every command takes --help. Client commands find the node through --socket PATH or
--data-dir DIR. peercas --version prints the version.
`

/** `serve` loads the whole node (libp2p, gRPC server, store): only when it is the command. */
const serve = async (argv: string[]): Promise<number> => await (await import('./serve.js')).serve(argv)

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = { serve, status, put, get, gc, flush, sync, socket, 'gen-psk': genPsk }

/** The version in package.json (read without loading the node). */
export function cliVersion (): string {
  // node/cli/main.ts in the repo, dist/node/cli/main.js once compiled.
  const root = import.meta.url.includes('/dist/') ? '../../../' : '../../'
  return (JSON.parse(readFileSync(new URL(root + 'package.json', import.meta.url), 'utf8')) as { version: string }).version
}

/** Entry point of the `peercas` command. Exits the process with the command's status. */
export async function main (argv: string[]): Promise<void> {
  // grpc-js logs its own errors to stderr (`E No address added out of total 1 resolved`): the
  // commands report failures themselves, and `serve` routes grpc-js's log into its own.
  grpc.setLogVerbosity(grpc.logVerbosity.NONE)
  const [command, ...rest] = argv
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`peercas ${cliVersion()}\n`)
    process.exit(0)
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    // Asked for: help on stdout. No command at all: a usage error, on stderr.
    if (command === undefined) {
      process.stderr.write(USAGE)
      process.exit(EXIT_USAGE)
    }
    process.stdout.write(USAGE + '\n' + SERVE_USAGE)
    process.exit(0)
  }
  const run = COMMANDS[command]
  if (run === undefined) {
    process.stderr.write(`peercas: unknown command "${command}"; the commands are ${Object.keys(COMMANDS).join(', ')} (see peercas --help)\n`)
    process.exit(EXIT_USAGE)
  }
  try {
    process.exitCode = await run(rest)
  } catch (error) {
    const failure = describeFailure(command, error)
    process.stderr.write(failure.message + '\n')
    process.exitCode = failure.exitCode
  }
  // Serve's open handles are gone by now; client commands' channels too. Exit promptly anyway.
  setTimeout(() => process.exit(), 100).unref()
}

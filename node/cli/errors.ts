import { PeercasError, Status } from '../domain/status.js'

/** A command used with the wrong arguments (exit status 2). */
export class UsageError extends PeercasError {
  override name = 'UsageError'
  readonly status = Status.INVALID_ARGUMENT
}

/** Exit status of a command used wrongly (wrong flag, missing argument), as in BSD sysexits' usage. */
export const EXIT_USAGE = 2
/** Exit status of a command that failed. */
export const EXIT_FAILURE = 1
/** Exit status after Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130

/** `node:util` parseArgs error codes: all of them are usage errors. */
const PARSE_ARGS_CODES = new Set([
  'ERR_PARSE_ARGS_UNKNOWN_OPTION',
  'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
  'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
])

/** A failure as the CLI reports it: one line, and the exit status. */
export interface Failure {
  message: string
  exitCode: number
}

/** What to do after a gRPC status from the node, when the node's own message does not say. */
const STATUS_HINTS: Partial<Record<number, string>> = {
  [Status.NOT_FOUND]: 'not on this node, its peers or the central CAS',
  [Status.UNAVAILABLE]: 'the node is not answering; is `peercas serve` still running?',
  [Status.DEADLINE_EXCEEDED]: 'the node took too long; try again, or check `peercas status`',
  [Status.RESOURCE_EXHAUSTED]: 'raise --max-size or make room with `peercas gc`'
}

/**
 * Turns any error a command threw into one line that says what failed, why and (where there is
 * something to do) what to do — without gRPC's `5 NOT_FOUND:` prefix or a stack trace.
 */
export function describeFailure (command: string, error: unknown): Failure {
  const e = error as Error & { code?: unknown, details?: unknown, path?: unknown, syscall?: unknown }
  if (error instanceof UsageError || (typeof e.code === 'string' && PARSE_ARGS_CODES.has(e.code))) {
    return { message: `peercas ${command}: ${firstLine(e.message)} (see peercas ${command} --help)`, exitCode: EXIT_USAGE }
  }
  if (typeof e.code === 'number' && typeof e.details === 'string') {
    // A gRPC status from the node (or from grpc-js itself).
    const hint = STATUS_HINTS[e.code]
    const details = cleanGrpcDetails(e.details)
    return { message: `peercas ${command}: ${details}${hint !== undefined && !details.includes(hint) ? ` (${hint})` : ''}`, exitCode: EXIT_FAILURE }
  }
  if (typeof e.code === 'string' && typeof e.path === 'string' && typeof e.syscall === 'string') {
    const verb = ['open', 'stat', 'lstat', 'read'].includes(e.syscall) ? 'read' : e.syscall
    return { message: `peercas ${command}: cannot ${verb} ${e.path}: ${SYSTEM_ERRORS[e.code] ?? e.code}`, exitCode: EXIT_FAILURE }
  }
  return { message: `peercas ${command}: ${firstLine(e instanceof Error ? e.message : String(error))}`, exitCode: EXIT_FAILURE }
}

const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent is not a directory',
  ENOSPC: 'no space left on the device',
  EROFS: 'read-only file system'
}

/**
 * grpc-js connection errors end in `Resolution note: ` even when the note is empty, and some
 * details repeat the status name; both are noise to a person.
 */
export function cleanGrpcDetails (details: string): string {
  return firstLine(details.replace(/\s*Resolution note:\s*$/, '').replace(/^\d+ [A-Z_]+: /, ''))
}

function firstLine (text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text
  return line.trim()
}

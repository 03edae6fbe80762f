import * as grpc from '@grpc/grpc-js'
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'

/** Shortest token a listener accepts: anything shorter is guessable. */
export const MIN_CALLER_TOKEN_CHARS = 16

/** A listener token file that cannot be used: unreadable, empty, several lines, or too short. */
export class CallerTokenFileError extends Error {
  override name = 'CallerTokenFileError'
}

/**
 * Reads a listener's token: the file's one line, surrounding whitespace ignored. Throws
 * {@link CallerTokenFileError} naming the file if it is unreadable or not a usable token.
 */
export async function readCallerToken (path: string): Promise<string> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new CallerTokenFileError(`cannot read the listener token file ${path}: ${(error as Error).message}`, { cause: error })
  }
  const token = text.trim()
  const hint = 'write one line of at least 16 characters, e.g. `openssl rand -hex 32 > FILE`'
  if (token === '') throw new CallerTokenFileError(`the listener token file ${path} is empty; ${hint}`)
  if (!/^[\x21-\x7e]+$/.test(token)) throw new CallerTokenFileError(`the listener token file ${path} must hold one token of printable characters without spaces; ${hint}`)
  if (token.length < MIN_CALLER_TOKEN_CHARS) throw new CallerTokenFileError(`the token in ${path} has ${token.length} characters, fewer than ${MIN_CALLER_TOKEN_CHARS}; ${hint}`)
  return token
}

/**
 * A server interceptor that ends every call arriving on a listed TCP port with UNAUTHENTICATED
 * unless it carries `authorization: Bearer <that port's token>`. Calls on other ports and on
 * the unix socket (no local port) pass untouched. `tokensByPort` may be filled after this is
 * created, as long as it is before the port is bound.
 */
export function callerTokenInterceptor (tokensByPort: ReadonlyMap<number, { address: string, token: string }>): grpc.ServerInterceptor {
  return (_method, call) => {
    const port = call.getConnectionInfo().localPort
    // Looked up per call: the server fills the map as it binds its listeners.
    const listener = port === undefined ? undefined : tokensByPort.get(port)
    // No wrapping layer for calls that need no check: grpc-js accepts the call itself.
    if (listener === undefined) return call as grpc.ServerInterceptingCall
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, pass) => {
            const problem = bearerProblem(metadata.get('authorization'), sha256(listener.token), listener.address)
            if (problem === undefined) pass(metadata)
            else call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: problem })
          }
        })
      }
    })
  }
}

/** Why a call's `authorization` values do not carry the listener's token, or undefined if they do. */
function bearerProblem (values: grpc.MetadataValue[], expected: Buffer, address: string): string | undefined {
  const how = 'send the header `authorization: Bearer <token>` (Bazel: --remote_header=authorization=Bearer <token>)'
  if (values.length === 0) return `the listener ${address} requires a token; ${how}`
  if (values.length > 1) return `the call carries ${values.length} authorization headers; send one: ${how}`
  const match = /^Bearer\s+(\S+)\s*$/i.exec(String(values[0]))
  if (match === null) return `the authorization header is not "Bearer <token>"; ${how}`
  if (!timingSafeEqual(sha256(match[1]!), expected)) return `the token does not match the listener ${address}'s token file`
  return undefined
}

function sha256 (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

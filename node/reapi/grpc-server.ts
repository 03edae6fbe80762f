import * as grpc from '@grpc/grpc-js'
import { chmod } from 'node:fs/promises'
import type { Http2SecureServer, Http2Server, IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2'
import type { Logger } from '../log/logger.js'
import { MAX_GRPC_MESSAGE_BYTES } from './constants.js'
import { prepareSocketPath } from './socket-path.js'
import { installInPlaceFraming } from './in-place-framing.js'
import { callerTokenInterceptor } from './caller-tokens.js'
import { rpcError } from './errors.js'
import { admin, buildstream, bytestream, reapi, remoteAsset } from './protos.js'
import type { ContentAddressableStorageHandlers } from '../generated/build/bazel/remote/execution/v2/ContentAddressableStorage.js'
import type { ByteStreamHandlers } from '../generated/google/bytestream/ByteStream.js'
import type { ActionCacheHandlers } from '../generated/build/bazel/remote/execution/v2/ActionCache.js'
import type { CapabilitiesHandlers } from '../generated/build/bazel/remote/execution/v2/Capabilities.js'
import type { ExecutionHandlers } from '../generated/build/bazel/remote/execution/v2/Execution.js'
import type { AdminHandlers } from '../generated/peercas/admin/v1/Admin.js'
import type { FetchHandlers } from '../generated/build/bazel/remote/asset/v1/Fetch.js'
import type { PushHandlers } from '../generated/build/bazel/remote/asset/v1/Push.js'
import type { ReferenceStorageHandlers } from '../generated/buildstream/v2/ReferenceStorage.js'

/** The handlers the server exposes. */
export interface ServiceHandlers {
  cas: ContentAddressableStorageHandlers
  byteStream: ByteStreamHandlers
  actionCache: ActionCacheHandlers
  capabilities: CapabilitiesHandlers
  execution: ExecutionHandlers
  /** Only on the node's own endpoints: a sandbox's endpoint gets no administration. */
  admin?: AdminHandlers
  /** Remote Asset API v1 (not served when absent). */
  assetFetch?: FetchHandlers
  assetPush?: PushHandlers
  /** BuildStream 1.x artifact refs (not served when absent). */
  referenceStorage?: ReferenceStorageHandlers
}

/** Where to listen. */
export interface GrpcServerInit {
  /** Unix socket path; created with mode 0600. @default none (TCP only) */
  socketPath?: string
  /** TCP `host:port` addresses (port 0 picks one), each with the token its callers must send, if any. */
  listen: Array<{ address: string, token?: string }>
  handlers: ServiceHandlers
  logger: Logger
  /** Told of every call's end (the metrics' record of outcomes). */
  onCallEnd?: CallRecorder
}

/**
 * Receives every call's method path (`/package.Service/Method`), final status code and duration in
 * seconds, once per call (a cancelled call counts as CANCELLED).
 */
export type CallRecorder = (methodPath: string, code: grpc.status, seconds: number) => void

/** A running gRPC server. */
export interface RunningGrpcServer {
  /** Bound TCP addresses with real ports, e.g. `127.0.0.1:40123`. */
  tcpAddresses: string[]
  /** Stops accepting calls, waits up to `graceMs` for calls in flight, then cancels them. */
  shutdown(graceMs?: number): Promise<void>
}

/**
 * Message limits sized to the batch limit. (No `grpc-node.max_session_memory`: grpc-js leaves
 * it unlimited by default because Node's HTTP/2 degrades badly when the limit is reached.)
 */
export const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES,
  'grpc.max_concurrent_streams': 1000
}

/** Starts the gRPC server on the unix socket and any TCP addresses. */
export async function startGrpcServer (init: GrpcServerInit): Promise<RunningGrpcServer> {
  if (!installInPlaceFraming()) init.logger.debug('grpc-js has no serializeMessage hook; Read responses are framed by copy')
  // Listeners with a token: by bound port, filled in as they are bound (before any call can arrive).
  const tokensByPort = new Map<number, { address: string, token: string }>()
  const tokenless = new Set<number>()
  // A caller without its token learns nothing else. Unary and server-streaming calls pass no
  // other interceptor layer (each costs every call tens of µs of grpc-js plumbing): a malformed
  // request is refused by the handler's wrapper, status messages are made safe where handlers'
  // errors are built (errors.ts), and outcomes are recorded from the HTTP/2 streams (observeCalls).
  const interceptors = [...(init.listen.some((l) => l.token !== undefined) ? [callerTokenInterceptor(tokensByPort)] : []), malformedStreamedRequests]
  const server = new grpc.Server({ ...SERVER_OPTIONS, interceptors })
  const methodPaths = new Set<string>()
  const add = (service: grpc.ServiceDefinition, handlers: object): void => {
    for (const method of Object.values(service as Record<string, grpc.MethodDefinition<unknown, unknown>>)) methodPaths.add(method.path)
    server.addService(withMalformedRequestsMarked(service), withMalformedRequestsRefused(service, handlers as grpc.UntypedServiceImplementation))
  }
  add(casServiceDefinition(), init.handlers.cas)
  add(byteStreamServiceDefinition(), init.handlers.byteStream)
  add(actionCacheServiceDefinition(), init.handlers.actionCache)
  add(reapi.Capabilities.service, init.handlers.capabilities)
  add(reapi.Execution.service, init.handlers.execution)
  if (init.handlers.admin !== undefined) add(admin.Admin.service, init.handlers.admin)
  if (init.handlers.assetFetch !== undefined) add(remoteAsset.Fetch.service, init.handlers.assetFetch)
  if (init.handlers.assetPush !== undefined) add(remoteAsset.Push.service, init.handlers.assetPush)
  if (init.handlers.referenceStorage !== undefined) add(buildstream.ReferenceStorage.service, init.handlers.referenceStorage)

  if (init.socketPath !== undefined) {
    await prepareSocketPath(init.socketPath)
    // Bind with a restrictive umask so the socket is never reachable by others, even briefly.
    const previousUmask = process.umask(0o177)
    try {
      await bind(server, `unix:${init.socketPath}`, grpc.ServerCredentials.createInsecure())
    } finally {
      process.umask(previousUmask)
    }
    await chmod(init.socketPath, 0o600)
  }

  const tcpAddresses: string[] = []
  try {
    for (const { address, token } of init.listen) {
      const { host } = splitHostPort(address)
      const port = await bind(server, address, grpc.ServerCredentials.createInsecure())
      const bound = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
      // Calls are told apart by local port: two listeners on one port must agree on the token.
      if ((token === undefined ? tokensByPort.has(port) : tokenless.has(port) || (tokensByPort.has(port) && tokensByPort.get(port)!.token !== token))) {
        throw new RangeError(`listen address ${address} shares port ${port} with another listener that has a different token`)
      }
      if (token === undefined) tokenless.add(port); else tokensByPort.set(port, { address: bound, token })
      tcpAddresses.push(bound)
    }
  } catch (error) {
    server.forceShutdown()
    throw error
  }
  if (!widenReceiveWindows(server)) init.logger.debug('grpc-js does not expose its HTTP/2 servers; receive windows stay at 64 KiB')
  const calls = observeCalls(server, methodPaths, init.onCallEnd)
  if (calls === undefined) init.logger.debug('grpc-js does not expose its HTTP/2 servers; a stop waits the whole grace while any client is connected')
  init.logger.debug('gRPC server listening', { socket: init.socketPath, tcp: tcpAddresses })

  return {
    tcpAddresses,
    async shutdown (graceMs = 5000) {
      await new Promise<void>((resolve) => {
        let finished = false
        const finish = (force: boolean): void => {
          if (finished) return
          finished = true
          clearTimeout(timer)
          if (force) server.forceShutdown()
          resolve()
        }
        const timer = setTimeout(() => { finish(true) }, graceMs)
        server.tryShutdown(() => { finish(false) })
        // The grace is for calls in flight: a connection without one (an idle client, or one
        // that never spoke HTTP/2) would otherwise hold the stop for all of it. The last call's
        // closing frames get a moment to leave before the connections are cut.
        calls?.whenNone(() => { setTimeout(() => { finish(true) }, CLOSING_FRAMES_MS) })
      })
    }
  }
}

/**
 * A copy of `service` whose `methods` pass through responses the handler already encoded (a
 * Buffer) and encode the rest as usual: ByteStream.Read chunks read straight into encoded
 * buffers (read-response.ts), and ActionResults served as the bytes the action cache stores.
 */
export function withPreEncodedResponses (service: grpc.ServiceDefinition, methods: string[]): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...service }
  for (const name of methods) {
    const method = service[name]
    if (method === undefined) throw new RangeError(`service has no method ${name}`)
    const encode = method.responseSerialize
    out[name] = { ...method, responseSerialize: (value: unknown) => Buffer.isBuffer(value) ? value : encode(value) }
  }
  return out
}

/** The CAS with BatchReadBlobs answers encoded by the handler, a slice at a time (cas-service.ts). */
export function casServiceDefinition (): grpc.ServiceDefinition {
  return withPreEncodedResponses(reapi.ContentAddressableStorage.service as unknown as grpc.ServiceDefinition, ['BatchReadBlobs'])
}

/** ByteStream with pre-encoded Read responses. */
export function byteStreamServiceDefinition (): grpc.ServiceDefinition {
  return withPreEncodedResponses(bytestream.ByteStream.service as unknown as grpc.ServiceDefinition, ['Read'])
}

/** ActionCache with GetActionResult answered from the stored bytes. */
export function actionCacheServiceDefinition (): grpc.ServiceDefinition {
  return withPreEncodedResponses(reapi.ActionCache.service as unknown as grpc.ServiceDefinition, ['GetActionResult'])
}

/** How long a stop waits, after the last call in flight ended, before cutting idle connections. */
const CLOSING_FRAMES_MS = 50

/** What a request deserializer returns for bytes that are not the method's request message. */
class MalformedRequest {
  constructor (readonly method: string, readonly reason: string) {}
}

/**
 * A copy of `service` whose request deserializers return a {@link MalformedRequest} instead of
 * throwing: grpc-js answers a throwing deserializer with INTERNAL, which blames the server for
 * the client's bytes; {@link rejectMalformedRequests} answers INVALID_ARGUMENT instead.
 */
export function withMalformedRequestsMarked (service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {}
  for (const [name, method] of Object.entries(service as Record<string, grpc.MethodDefinition<unknown, unknown>>)) {
    const decode = method.requestDeserialize
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes)
        } catch (error) {
          return new MalformedRequest(method.path, error instanceof Error ? error.message : String(error))
        }
      }
    }
  }
  return out
}

/** The INVALID_ARGUMENT answer to a request message that did not decode. */
function malformedRequestError (message: MalformedRequest): grpc.ServiceError {
  return rpcError(grpc.status.INVALID_ARGUMENT, `the request is not a valid ${message.method} message: ${message.reason}`)
}

/**
 * Handlers of unary and server-streaming methods wrapped so that a request that did not decode
 * (a {@link MalformedRequest}) is answered INVALID_ARGUMENT and never reaches the handler.
 * Request-streaming methods are left to {@link malformedStreamedRequests}.
 */
export function withMalformedRequestsRefused (service: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = { ...handlers }
  for (const [name, method] of Object.entries(service as Record<string, grpc.MethodDefinition<unknown, unknown>>)) {
    const handler = handlers[name] as ((...args: unknown[]) => void) | undefined
    if (handler === undefined || method.requestStream) continue
    out[name] = method.responseStream
      ? (call: grpc.ServerWritableStream<unknown, unknown>) => {
          if (call.request instanceof MalformedRequest) call.emit('error', malformedRequestError(call.request)); else handler(call)
        }
      : (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          if (call.request instanceof MalformedRequest) callback(malformedRequestError(call.request)); else handler(call, callback)
        }
  }
  return out
}

/**
 * Ends a request-streaming call (ByteStream.Write) whose request message did not decode with
 * INVALID_ARGUMENT; the handler never sees it. Other calls pass untouched (no layer).
 */
const malformedStreamedRequests: grpc.ServerInterceptor = (method, call) => {
  if (!method.requestStream) return call as grpc.ServerInterceptingCall
  let rejected = false
  const intercepted: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
    start: (next) => {
      next({
        onReceiveMessage: (message: unknown, pass: (message: unknown) => void) => {
          if (!(message instanceof MalformedRequest)) { if (!rejected) pass(message); return }
          if (rejected) return
          rejected = true
          const error = malformedRequestError(message)
          intercepted.sendStatus({ code: error.code, details: error.details, metadata: new grpc.Metadata() })
        },
        onReceiveHalfClose: (pass: () => void) => { if (!rejected) pass() }
      })
    }
  })
  return intercepted
}

/** The method path calls to methods this server does not serve are recorded under. */
export const UNKNOWN_METHOD_PATH = '/unknown/unknown'

/** Counts the calls (HTTP/2 streams) in flight on a server. */
interface CallTracker {
  /** Calls `listener` once no call is in flight: now, or when the last one ends. */
  whenNone(listener: () => void): void
}

/**
 * Follows the HTTP/2 streams of every session of `server` (each gRPC call is one), whatever
 * ends them: counts those in flight and, when a stream closes, tells `onCallEnd` its method,
 * the `grpc-status` it sent (in its trailers, or in its headers for a trailers-only answer;
 * none: the call was cancelled) and its duration. A path that is not one of `methodPaths` is
 * reported as {@link UNKNOWN_METHOD_PATH}, so clients cannot grow the metrics' label sets. Reaches
 * grpc-js's listening HTTP/2 servers like {@link widenReceiveWindows}; undefined if that field is
 * not there (then nothing is recorded).
 */
function observeCalls (server: grpc.Server, methodPaths: ReadonlySet<string>, onCallEnd: CallRecorder | undefined): CallTracker | undefined {
  const listeners = (server as unknown as { http2Servers?: Map<Http2Server | Http2SecureServer, unknown> }).http2Servers
  if (!(listeners instanceof Map)) return undefined
  let open = 0
  const waiting: Array<() => void> = []
  for (const listener of listeners.keys()) {
    listener.on('session', (session: ServerHttp2Session) => {
      session.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
        open++
        const startedAt = onCallEnd === undefined ? 0 : performance.now()
        stream.once('close', () => {
          open--
          if (onCallEnd !== undefined) {
            const path = headers[':path']
            const sent = stream.sentTrailers?.['grpc-status'] ?? stream.sentHeaders?.['grpc-status']
            const code = sent === undefined ? grpc.status.CANCELLED : Number(sent)
            onCallEnd(typeof path === 'string' && methodPaths.has(path) ? path : UNKNOWN_METHOD_PATH, Number.isInteger(code) ? code : grpc.status.UNKNOWN, (performance.now() - startedAt) / 1000)
          }
          if (open === 0) for (const done of waiting.splice(0)) done()
        })
      })
    })
  }
  return {
    whenNone (listener) {
      if (open === 0) listener(); else waiting.push(listener)
    }
  }
}

/** Splits `host:port` or `[v6]:port`; throws RangeError naming the address if malformed. */
export function splitHostPort (address: string): { host: string, port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address)
  const port = match === null ? NaN : Number(match[3])
  if (match === null || port > 65535) throw new RangeError(`listen address ${JSON.stringify(address)} is not HOST:PORT (e.g. 127.0.0.1:8980)`)
  return { host: match[1] ?? match[2]!, port }
}

async function bind (server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return await new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => {
      if (error != null) reject(new Error(`cannot listen on ${address}: ${error.message}`, { cause: error })); else resolve(port)
    })
  })
}

/**
 * HTTP/2 receive windows the server grants each client. Node's default is 64 KiB per stream and
 * per connection, so a client streaming a large ByteStream.Write stops every 64 KiB until the
 * server's WINDOW_UPDATE arrives; with 1 MiB per stream and 4 MiB per connection a 256 MB write
 * ran at 484–577 MB/s instead of 313–334 (scripts/write-profile.mjs, same machine, interleaved).
 * The connection window also bounds what one client can make the server buffer.
 */
export const STREAM_RECEIVE_WINDOW_BYTES = 1024 * 1024
export const CONNECTION_RECEIVE_WINDOW_BYTES = 4 * 1024 * 1024

/**
 * Applies the receive windows above to every HTTP/2 session of `server`. grpc-js has no server
 * option for them, so this reaches its listening HTTP/2 servers (a private field of grpc-js 1.x);
 * returns false, leaving Node's defaults, if that field is not there.
 */
function widenReceiveWindows (server: grpc.Server): boolean {
  const listeners = (server as unknown as { http2Servers?: Map<Http2Server | Http2SecureServer, unknown> }).http2Servers
  if (!(listeners instanceof Map)) return false
  for (const listener of listeners.keys()) {
    listener.on('session', (session: ServerHttp2Session) => {
      try {
        session.settings({ initialWindowSize: STREAM_RECEIVE_WINDOW_BYTES })
        session.setLocalWindowSize(CONNECTION_RECEIVE_WINDOW_BYTES)
      } catch {
        // A session already closing: nothing to tune.
      }
    })
  }
  return true
}

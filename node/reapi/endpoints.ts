import { randomUUID } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { validateEnvironment } from '../domain/names.js'
import { InvalidRequestError, NotFoundError } from '../domain/errors.js'
import { validateInstanceName } from '../domain/resource-names.js'
import type { Logger } from '../log/logger.js'
import { startGrpcServer, type RunningGrpcServer, type ServiceHandlers } from './grpc-server.js'

/** One endpoint for one build environment: a unix socket or a TCP address. */
export interface EndpointSpec {
  socket?: string
  listen?: string
  environment: string
  /** If set, the instance name of every named result through this endpoint. */
  instance?: string
  /** Whether BuildStream clients may update refs through it. @default true */
  allowRefUpdates?: boolean
}

/** A running endpoint. */
export interface OpenEndpoint {
  readonly spec: EndpointSpec
  /** The socket path, or the bound TCP address. */
  readonly address: string
}

/** What {@link EndpointSet} needs. */
export interface EndpointSetInit {
  /** The services for an endpoint of `environment` (no admin service: sandboxes get none). */
  handlersFor: (environment: string, instance: string | undefined, allowRefUpdates: boolean) => ServiceHandlers
  /** Where sockets opened without a path go. */
  socketDir: string
  /** The token TCP endpoints require (`listenTokenFile`), if any. */
  listenToken?: string
  logger: Logger
}

/**
 * The endpoints beyond the node's own socket and listeners, each serving REAPI for one build
 * environment: those in the configuration (`endpoints`), and sockets opened at run time for a
 * sandbox (`peercas socket open`). Blobs are shared by every endpoint; named results are keyed
 * by the endpoint's environment.
 */
export class EndpointSet {
  private readonly open = new Map<string, { endpoint: OpenEndpoint, server: RunningGrpcServer }>()

  constructor (private readonly init: EndpointSetInit) {}

  /** Starts serving `spec`; resolves with where it listens. Throws naming a bad environment or instance. */
  async add (spec: EndpointSpec): Promise<OpenEndpoint> {
    validateEnvironment(spec.environment)
    if (spec.environment === '') throw new InvalidRequestError('an extra endpoint needs an environment ID (the default environment is the node\'s own socket)')
    if (spec.instance !== undefined) validateInstanceName(spec.instance)
    const handlers = this.init.handlersFor(spec.environment, spec.instance, spec.allowRefUpdates ?? true)
    const socketPath = spec.listen !== undefined ? undefined : resolve(spec.socket ?? this.newSocketPath(spec.environment))
    if (socketPath !== undefined) await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 })
    const server = await startGrpcServer({ socketPath, listen: spec.listen !== undefined ? [{ address: spec.listen, token: this.init.listenToken }] : [], handlers, logger: this.init.logger })
    const address = socketPath ?? server.tcpAddresses[0]!
    const endpoint: OpenEndpoint = { spec, address }
    this.open.set(address, { endpoint, server })
    this.init.logger.info('serving an endpoint for a build environment', { environment: spec.environment, address, instance: spec.instance })
    return endpoint
  }

  /** Stops serving the endpoint at `address` (a socket path or TCP address) and removes its socket. */
  async remove (address: string, graceMs = 1000): Promise<void> {
    const key = this.open.has(address) ? address : resolve(address)
    const found = this.open.get(key)
    if (found === undefined) throw new NotFoundError(`no endpoint opened by this node is at ${address}`)
    this.open.delete(key)
    await found.server.shutdown(graceMs)
    if (found.endpoint.spec.listen === undefined) await rm(key, { force: true })
    this.init.logger.info('closed an endpoint', { environment: found.endpoint.spec.environment, address: key })
  }

  /** Every open endpoint. */
  list (): OpenEndpoint[] { return [...this.open.values()].map((e) => e.endpoint) }

  /** Closes every endpoint (at stop). */
  async closeAll (graceMs: number): Promise<void> {
    await Promise.all([...this.open.keys()].map(async (address) => { await this.remove(address, graceMs) }))
  }

  private newSocketPath (environment: string): string {
    const safe = environment.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)
    return join(this.init.socketDir, `${safe}-${randomUUID().slice(0, 8)}.sock`)
  }
}

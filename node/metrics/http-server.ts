import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from '../log/logger.js'
import type { GetStatusResponse } from '../generated/peercas/admin/v1/GetStatusResponse.js'
import type { NodeMetrics } from './node-metrics.js'
import { dashboardHtml } from './dashboard.js'

/** The metrics listener could not start (address malformed or in use). */
export class MetricsListenError extends Error {
  override name = 'MetricsListenError'
}

/** Options of {@link startMetricsServer}. */
export interface MetricsServerInit {
  /** `HOST:PORT` (`[v6]:PORT`); port 0 picks one. */
  address: string
  metrics: NodeMetrics
  /** The node's status, served as JSON at `/api/status` for the dashboard. */
  status: () => Promise<GetStatusResponse>
  logger: Logger
}

/** A running metrics listener. */
export interface MetricsServer {
  /** `http://host:port` with the real port. */
  readonly url: string
  close(): Promise<void>
}

/**
 * Serves `/metrics` (Prometheus text format), `/api/status` (the admin status as JSON),
 * `/api/history` (lookups and bytes of the last minutes) and the dashboard at `/` on one HTTP
 * listener. Read-only; bind it to loopback or a trusted network.
 */
export async function startMetricsServer (init: MetricsServerInit): Promise<MetricsServer> {
  const { host, port } = parseHostPort(init.address)
  const server = createServer((request, response) => {
    handle(init, request, response).catch((error: unknown) => {
      init.logger.warn('metrics request failed', { path: request.url, error })
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' })
      response.end('internal error\n')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'the port is in use (pick another with --metrics HOST:PORT)' : error.code === 'EADDRNOTAVAIL' ? 'the address is not on this machine' : error.message
      reject(new MetricsListenError(`cannot serve metrics on ${init.address}: ${why}`, { cause: error }))
    })
    server.listen(port, host, () => { resolve() })
  })
  const bound = server.address() as AddressInfo
  const url = `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`
  init.logger.info('serving metrics and the dashboard', { url })
  return {
    url,
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}

async function handle (init: MetricsServerInit, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0]
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET\n')
    return
  }
  if (path === '/metrics') {
    const body = await init.metrics.registry.metrics()
    response.writeHead(200, { 'content-type': init.metrics.registry.contentType }).end(body)
  } else if (path === '/api/status') {
    const body = JSON.stringify(await init.status())
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body)
  } else if (path === '/api/history') {
    const body = JSON.stringify(init.metrics.history())
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body)
  } else if (path === '/') {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(dashboardHtml())
  } else {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /, /metrics, /api/status or /api/history\n')
  }
}

/** Splits `host:port` or `[v6]:port`; throws {@link MetricsListenError} naming the address. */
export function parseHostPort (address: string): { host: string, port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address)
  const port = match === null ? NaN : Number(match[3])
  if (match === null || port > 65535) throw new MetricsListenError(`metrics address ${JSON.stringify(address)} is not HOST:PORT (e.g. 127.0.0.1:9464)`)
  return { host: match[1] ?? match[2]!, port }
}

import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLogger, type Logger } from './log/logger.js'
import type { PeercasConfig } from './config/schema.js'
import type { Digest } from './store/digest.js'
import { LocalStore } from './store/local-store.js'
import { TieredResolver } from './resolve/tiered-resolver.js'
import { createCasService } from './reapi/cas-service.js'
import { createByteStreamService } from './reapi/bytestream-service.js'
import { createActionCacheService } from './reapi/action-cache-service.js'
import { createCapabilitiesService } from './reapi/capabilities-service.js'
import { createExecutionService } from './reapi/execution-service.js'
import { createAdminService } from './reapi/admin-service.js'
import { startGrpcServer } from './reapi/grpc-server.js'
import type { GetStatusResponse } from './generated/peercas/admin/v1/GetStatusResponse.js'

/** The version in package.json. */
export const PEERCAS_VERSION: string = (JSON.parse(readFileSync(new URL('../' + (import.meta.url.includes('/dist/') ? '../' : '') + 'package.json', import.meta.url), 'utf8')) as { version: string }).version

/** What `serve` writes to `<dataDir>/node.json` once ready, for `status` and scripts. */
export interface NodeInfo {
  pid: number
  version: string
  dataDir: string
  socket: string
  tcp: string[]
  startedAt: string
}

/** A running node. */
export interface RunningNode {
  readonly config: PeercasConfig
  readonly info: NodeInfo
  readonly store: LocalStore
  readonly resolver: TieredResolver
  /** Status as reported by the admin service. */
  status(): Promise<GetStatusResponse>
  /** Stops serving: calls in flight get `graceMs` to finish, partial writes are discarded. */
  stop(graceMs?: number): Promise<void>
}

/** Options of {@link startNode} that are not configuration. */
export interface StartNodeOptions {
  logger?: Logger
}

/**
 * Starts a peercas node: opens the store in the data dir (refusing if another node holds it),
 * serves REAPI on the unix socket and TCP addresses, and writes node.json when ready.
 */
export async function startNode (config: PeercasConfig, options: StartNodeOptions = {}): Promise<RunningNode> {
  const log = options.logger ?? createLogger('peercas', { level: config.log.level })
  const startedAt = Date.now()
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const store = await LocalStore.open({
    dataDir: config.dataDir,
    maxSizeBytes: config.maxSize,
    inlineThresholdBytes: config.store.inlineThreshold,
    highWatermark: config.store.highWatermark,
    lowWatermark: config.store.lowWatermark,
    fsync: config.store.fsync,
    logger: log.child('store')
  })
  try {
    const resolver = new TieredResolver({ store, logger: log.child('resolve') })
    const blobListeners: Array<(digests: Digest[]) => void> = []
    const onBlobsWritten = (digests: Digest[]): void => { for (const listener of blobListeners) listener(digests) }
    const byteStream = createByteStreamService({ store, resolver, onBlobsWritten, logger: log.child('bytestream') })
    const actionCache = createActionCacheService({ store, resolver, logger: log.child('ac') })

    const status = async (): Promise<GetStatusResponse> => {
      const s = store.stats()
      return {
        version: PEERCAS_VERSION,
        pid: process.pid,
        dataDir: config.dataDir,
        socketPath: config.socket,
        tcpAddresses: info.tcp,
        uptimeSeconds: (Date.now() - startedAt) / 1000,
        store: {
          blobCount: s.blobCount,
          totalBytes: s.totalBytes,
          quotaBytes: s.quotaBytes,
          highWatermark: s.highWatermark,
          lowWatermark: s.lowWatermark,
          inlineBlobCount: s.inlineBlobCount,
          fileBlobCount: s.fileBlobCount,
          actionResultCount: await store.actionCache.count()
        },
        hits: {
          ...resolver.counters,
          actionCacheHits: actionCache.counters.hits,
          actionCacheMisses: actionCache.counters.misses
        },
        peers: [],
        remote: { configured: false, endpoint: '', online: false }
      }
    }

    const server = await startGrpcServer({
      socketPath: config.socket,
      listen: config.listen,
      logger: log.child('grpc'),
      handlers: {
        cas: createCasService({ store, resolver, onBlobsWritten }),
        byteStream: byteStream.handlers,
        actionCache: actionCache.handlers,
        capabilities: createCapabilitiesService(),
        execution: createExecutionService(),
        admin: createAdminService({
          status,
          runGc: async (target) => await store.evict(target)
        })
      }
    })

    const info: NodeInfo = {
      pid: process.pid,
      version: PEERCAS_VERSION,
      dataDir: config.dataDir,
      socket: config.socket,
      tcp: server.tcpAddresses,
      startedAt: new Date().toISOString()
    }
    await writeNodeInfo(config.dataDir, info)
    log.info('peercas ready', { socket: config.socket, tcp: info.tcp, dataDir: config.dataDir, blobs: store.stats().blobCount, ms: Date.now() - startedAt })

    let stopping: Promise<void> | undefined
    return {
      config,
      info,
      store,
      resolver,
      status,
      async stop (graceMs = 5000) {
        stopping ??= (async () => {
          await server.shutdown(graceMs)
          await byteStream.abortAll()
          await store.close()
          await rm(join(config.dataDir, 'node.json'), { force: true })
          await rm(config.socket, { force: true })
          log.info('peercas stopped')
        })()
        await stopping
      }
    }
  } catch (error) {
    await store.close()
    throw error
  }
}

/** Reads `<dataDir>/node.json` of a running node, or `undefined` if there is none. */
export function readNodeInfo (dataDir: string): NodeInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'node.json'), 'utf8')) as NodeInfo
  } catch {
    return undefined
  }
}

async function writeNodeInfo (dataDir: string, info: NodeInfo): Promise<void> {
  const path = join(dataDir, 'node.json')
  await writeFile(`${path}.tmp`, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 })
  await rename(`${path}.tmp`, path)
}

import { readNodeInfo, writeNodeInfo, type NodeInfo } from './node-info.js'
import { mkdir, rm } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createLogger, type Logger } from './log/logger.js'
import type { PeercasConfig } from './config/schema.js'
import type { Digest } from './store/digest.js'
import { LocalStore } from './store/local-store.js'
import { TieredResolver } from './resolve/tiered-resolver.js'
import { NamedResultResolver } from './resolve/named-results.js'
import { actionResultRule } from './resolve/named-result-rules.js'
import { assetRule } from './resolve/asset-rule.js'
import { refRule } from './resolve/ref-rule.js'
import { AssetResolver } from './resolve/assets.js'
import { HttpOrigin } from './origin/http-origin.js'
import { createAssetServices } from './reapi/asset-service.js'
import { createReferenceStorageService } from './reapi/reference-storage-service.js'
import { actionDigestOf } from './domain/names.js'
import { ResultSigner } from './trust/signatures.js'
import { TrustPolicy, type TrustPolicyInit } from './trust/policy.js'
import { removeRevokedEntries, signUnsignedEntries } from './trust/maintenance.js'
import { loadOrCreateIdentity } from './p2p/identity.js'
import { createCasService } from './reapi/cas-service.js'
import { createByteStreamService } from './reapi/bytestream-service.js'
import { createActionCacheService } from './reapi/action-cache-service.js'
import { createCapabilitiesService } from './reapi/capabilities-service.js'
import { createExecutionService } from './reapi/execution-service.js'
import { createAdminService } from './reapi/admin-service.js'
import { startGrpcServer, type ServiceHandlers } from './reapi/grpc-server.js'
import { EndpointSet } from './reapi/endpoints.js'
import type { GetStatusResponse } from './generated/peercas/admin/v1/GetStatusResponse.js'
import { DataDirLockedError } from './store/errors.js'
import { NO_TEAM_KEY_HINT, OPEN_NETWORK_WARNING, P2pDisabledError, p2pModeOf, readTeamKey, startP2p, type P2pComponents, type P2pService } from './p2p/index.js'
import { readCallerToken } from './reapi/caller-tokens.js'
import { RemoteNotConfiguredError, startRemote, type RemoteService } from './remote/index.js'
import { NodeMetrics, startMetricsServer, type MetricsServer } from './metrics/index.js'
import { rememberP2pPort, rememberedP2pListen, usesAutomaticP2pPort } from './config/p2p-port.js'

/** The version in package.json. */
export const PEERCAS_VERSION: string = (JSON.parse(readFileSync(new URL('../' + (import.meta.url.includes('/dist/') ? '../' : '') + 'package.json', import.meta.url), 'utf8')) as { version: string }).version

export { readNodeInfo, type NodeInfo } from './node-info.js'

/** A running node. */
export interface RunningNode {
  readonly config: PeercasConfig
  readonly info: NodeInfo
  readonly store: LocalStore
  readonly resolver: TieredResolver
  /** The libp2p side, when enabled. */
  readonly p2p: P2pService | undefined
  /** The central CAS link, when configured. */
  readonly remote: RemoteService | undefined
  /** Status as reported by the admin service. */
  status(): Promise<GetStatusResponse>
  /** Endpoints for other build environments (configured, or opened at run time). */
  readonly endpoints: EndpointSet
  /**
   * Applies a reloaded `trust` configuration (SIGHUP): the new policy judges every later answer,
   * and entries of newly revoked signers are removed now. Resolves with how many were removed.
   */
  reloadTrust(trust: PeercasConfig['trust']): Promise<number>
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
  // One shutdown signal for the whole node: every long wait (tier fetches, probes, dials)
  // combines it with its own timeout, so `stop()` ends them all.
  const shutdown = new AbortController()
  // Key and token files are read before anything starts: a bad one is a start-up error naming it.
  const p2pMode = p2pModeOf(config)
  const teamKey = p2pMode === 'team' ? await readTeamKey(config.p2p.psk) : undefined
  const listen = await readListeners(config)
  const endpointToken = config.listenTokenFile === '' ? undefined : await readCallerToken(config.listenTokenFile)
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
  const store = await openStore(config, log)
  let p2p: P2pService | undefined
  let remote: RemoteService | undefined
  let origin: HttpOrigin | undefined
  let metricsServer: MetricsServer | undefined
  const metrics = new NodeMetrics()
  try {
    // Named results are signed with the node's peer key (also its libp2p identity), whether or
    // not p2p is on: a result written here stays this node's when it travels later.
    const signer = new ResultSigner(await loadOrCreateIdentity(config.dataDir))
    const policy = new TrustPolicy({ ...trustOf(config), self: signer.peerId })
    await removeRevokedEntries(store.names, policy, log.child('trust'))
    // Read order: local → peers → central. Peers first: they are near and free.
    p2p = await startP2pOnStablePort(config, store, log, { shutdown: shutdown.signal, policy, signer, teamKey })
    if (teamKey?.readableByOthers === true) log.warn('the team key file is readable by other users; chmod 600 it', { file: teamKey.path })
    if (p2pMode === 'open') log.warn(OPEN_NETWORK_WARNING)
    remote = await startRemote({ config, store, shutdown: shutdown.signal, logger: log.child('remote') })
    const resolver = new TieredResolver({
      store,
      fetchers: [p2p?.blobFetcher, remote?.blobFetcher].filter((f) => f !== undefined).map((f) => metrics.instrumentFetcher(f)),
      shutdown: shutdown.signal,
      logger: log.child('resolve')
    })
    const onBlobsWritten = async (digests: Digest[]): Promise<void> => {
      await remote?.enqueueBlobs(digests).catch((error) => { log.error('cannot queue blobs for upload to the central CAS', { error }) })
    }
    const byteStream = createByteStreamService({ store, resolver, onBlobsWritten, logger: log.child('bytestream') })
    // Named results resolve like blobs: local → trusted peers → central, served only when complete.
    const names = new NamedResultResolver({
      index: store.names,
      blobs: resolver,
      rules: [actionResultRule, assetRule, refRule],
      policy,
      signer,
      fetchers: [p2p?.nameFetcher, remote?.nameFetcher].filter((f) => f !== undefined),
      onWritten: async (name) => {
        if (name.kind !== 'action-result') {
          await remote?.enqueueName(name).catch((error) => { log.error('cannot queue an asset or ref for upload to the central CAS', { error }) })
          return
        }
        await remote?.enqueueActionResult(name.instanceName, actionDigestOf(name)).catch((error) => { log.error('cannot queue an action result for upload to the central CAS', { error }) })
      },
      logger: log.child('names')
    })
    // Remote Asset and BuildStream refs: named results, then (FetchBlob only) the origin.
    await rm(join(config.dataDir, 'origin-tmp'), { recursive: true, force: true })
    origin = config.assets.originFetch
      ? new HttpOrigin({ sink: store, tempDir: join(config.dataDir, 'origin-tmp'), timeoutMs: config.assets.fetchTimeout, maxBytes: config.assets.maxDownloadSize, logger: log.child('origin') })
      : undefined
    const assets = new AssetResolver({ names, blobs: resolver, origin, logger: log.child('assets') })
    // Ref updates (BuildStream push) may be off per endpoint; everything else is the same on each.
    const refServices = (allowRefUpdates: boolean): Required<Pick<ServiceHandlers, 'assetPush' | 'referenceStorage'>> => ({
      assetPush: createAssetServices({ assets, allowRefUpdates }).push,
      referenceStorage: createReferenceStorageService({ assets, allowUpdates: allowRefUpdates })
    })

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
          actionResultCount: await store.names.count('action-result'),
          assetCount: await store.names.count('asset'),
          refCount: await store.names.count('ref')
        },
        hits: {
          ...resolver.counters,
          actionCacheHits: names.countersOf('action-result').hits,
          actionCacheMisses: names.countersOf('action-result').misses,
          assetHits: names.countersOf('asset').hits,
          assetMisses: names.countersOf('asset').misses,
          refHits: names.countersOf('ref').hits,
          refMisses: names.countersOf('ref').misses
        },
        peerId: signer.peerId,
        p2pAddresses: p2p?.addresses ?? [],
        peers: p2p?.peers() ?? [],
        remote: remote?.status() ?? { configured: false, endpoint: '', online: false },
        hitsLastHour: metrics.hitsLastHour(),
        peerBytesFetched: metrics.fetchedBytes().peer,
        centralBytesFetched: metrics.fetchedBytes().central,
        staticPeers: p2p?.staticPeers() ?? [],
        metricsUrl: metricsServer?.url ?? ''
      }
    }
    metrics.attach({ tierCounts: () => resolver.counters, evicted: () => store.evictedTotals(), status })

    // Blob and asset-fetch services are shared by every endpoint; the action cache is per build
    // environment, ref updates per endpoint.
    const blobServices = {
      cas: createCasService({ store, resolver, onBlobsWritten }),
      byteStream: byteStream.handlers,
      capabilities: createCapabilitiesService(),
      execution: createExecutionService(),
      assetFetch: createAssetServices({ assets }).fetch
    }
    const endpoints = new EndpointSet({
      handlersFor: (environment, instance, allowRefUpdates) => ({ ...blobServices, ...refServices(allowRefUpdates), actionCache: createActionCacheService({ names, environment, instance }) }),
      socketDir: join(dirname(config.socket), 'sandboxes'),
      listenToken: endpointToken,
      logger: log.child('endpoints')
    })
    const server = await startGrpcServer({
      socketPath: config.socket,
      listen,
      logger: log.child('grpc'),
      onCallEnd: metrics.recordCall,
      handlers: {
        ...blobServices,
        ...refServices(config.allowRefUpdates),
        actionCache: createActionCacheService({ names, environment: config.environment }),
        admin: createAdminService({
          status,
          runGc: async (target) => await store.evict(target),
          flush: (signal) => {
            if (remote === undefined) throw new RemoteNotConfiguredError('no central CAS is configured (--remote); there is nothing to flush')
            return remote.flush(signal)
          },
          sync: (options) => {
            if (p2p === undefined) throw new P2pDisabledError(`p2p is disabled on this node (${p2pMode === 'disabled' ? '--no-p2p' : 'no team key; start it with --psk FILE'}); cannot sync from a peer`)
            return p2p.sync(options)
          },
          openSocket: async ({ environment, path, instance }) => (await endpoints.add({ environment, socket: path === '' ? undefined : path, instance: instance === '' ? undefined : instance })).address,
          closeSocket: async (path) => { await endpoints.remove(path) }
        })
      }
    })
    try {
      for (const endpoint of config.endpoints) await endpoints.add(endpoint)
    } catch (error) {
      await endpoints.closeAll(0)
      await server.shutdown(0)
      throw error
    }

    if (config.metrics.listen !== '') {
      metricsServer = await startMetricsServer({ address: config.metrics.listen, metrics, status, logger: log.child('metrics') })
    }

    const info: NodeInfo = {
      pid: process.pid,
      version: PEERCAS_VERSION,
      dataDir: config.dataDir,
      socket: config.socket,
      tcp: server.tcpAddresses,
      startedAt: new Date().toISOString(),
      peerId: p2p?.peerId,
      p2p: p2p?.addresses
    }
    await writeNodeInfo(config.dataDir, info)
    // Entries from before signatures become this node's own, once, without delaying the start.
    void signUnsignedEntries(store.names, signer, store.sublevel('trust'), log.child('trust'), shutdown.signal)
      .catch((error) => { if (!shutdown.signal.aborted) log.warn('could not sign older named results', { error }) })
    listen.forEach((listener, i) => {
      if (listener.token === undefined) log.warn('TCP listener without a token: every local user can read and write results through it; give it a tokenFile (or --listen-token FILE)', { address: info.tcp[i] })
    })
    log.info('peercas ready', { socket: config.socket, tcp: info.tcp, dataDir: config.dataDir, blobs: store.stats().blobCount, peerId: info.peerId, p2p: p2pMode === 'no-team-key' ? NO_TEAM_KEY_HINT : p2pMode === 'disabled' ? 'off (--no-p2p)' : info.p2p, remote: config.remote.endpoint, ms: Date.now() - startedAt })

    let stopping: Promise<void> | undefined
    return {
      config,
      info,
      store,
      resolver,
      p2p,
      remote,
      status,
      endpoints,
      async reloadTrust (trust) {
        policy.update({ mode: trust.results, listed: trust.peers, revoked: trust.revoked })
        return await removeRevokedEntries(store.names, policy, log.child('trust'))
      },
      async stop (graceMs = 5000) {
        stopping ??= (async () => {
          await metricsServer?.close()
          metrics.stop()
          await Promise.all([server.shutdown(graceMs), endpoints.closeAll(graceMs)])
          shutdown.abort(new Error('the node is stopping'))
          await byteStream.abortAll()
          origin?.close()
          await p2p?.stop()
          await remote?.stop()
          await store.close()
          await rm(join(config.dataDir, 'node.json'), { force: true })
          await rm(config.socket, { force: true })
          log.info('peercas stopped')
        })()
        await stopping
      }
    }
  } catch (error) {
    metrics.stop()
    await metricsServer?.close().catch(() => {})
    shutdown.abort(error)
    await p2p?.stop().catch(() => {})
    await remote?.stop().catch(() => {})
    await store.close()
    throw error
  }
}

/** The TCP listeners with their tokens: an entry's own tokenFile, else `listenTokenFile`. */
async function readListeners (config: PeercasConfig): Promise<Array<{ address: string, token?: string }>> {
  return await Promise.all(config.listen.map(async (entry) => {
    const { address, tokenFile } = typeof entry === 'string' ? { address: entry, tokenFile: undefined } : entry
    const file = tokenFile ?? config.listenTokenFile
    return file === '' ? { address } : { address, token: await readCallerToken(file) }
  }))
}

/**
 * Starts p2p on the port remembered in the data dir when a `p2p.listen` address is on port 0
 * (so a teammate's `--peer` survives restarts), on any free port if that one is taken, and
 * remembers the port it got.
 */
async function startP2pOnStablePort (config: PeercasConfig, store: LocalStore, log: Logger, extra: Omit<P2pComponents, 'config' | 'store' | 'logger'>): Promise<P2pService | undefined> {
  const remembered = config.p2p.enabled ? rememberedP2pListen(config) : undefined
  let p2p: P2pService | undefined
  if (remembered !== undefined) {
    p2p = await startP2p({ ...extra, config: { ...config, p2p: { ...config.p2p, listen: remembered } }, store, logger: log.child('p2p') }).catch((error: unknown) => {
      log.warn('the remembered p2p port is not available; listening on a new one (teammates need the new address)', { listen: remembered, error })
      return undefined
    })
  }
  p2p ??= await startP2p({ ...extra, config, store, logger: log.child('p2p') })
  if (p2p !== undefined && usesAutomaticP2pPort(config)) {
    await rememberP2pPort(config.dataDir, p2p.addresses).catch((error: unknown) => { log.warn('cannot remember the p2p port', { error }) })
  }
  return p2p
}

async function openStore (config: PeercasConfig, log: Logger): Promise<LocalStore> {
  try {
    return await LocalStore.open({
      dataDir: config.dataDir,
      maxSizeBytes: config.maxSize,
      inlineThresholdBytes: config.store.inlineThreshold,
      highWatermark: config.store.highWatermark,
      lowWatermark: config.store.lowWatermark,
      fsync: config.store.fsync,
      scrubRateBytesPerSec: config.store.scrubRate,
      logger: log.child('store')
    })
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      const other = readNodeInfo(config.dataDir)
      throw new DataDirLockedError(`data dir ${config.dataDir} is in use by another peercas${other !== undefined ? ` (pid ${other.pid}, socket ${other.socket})` : ''}; stop it or pass another --data-dir`, { cause: error })
    }
    throw error
  }
}

/** The trust policy settings of a configuration. */
function trustOf (config: PeercasConfig): Omit<TrustPolicyInit, 'self'> {
  return { mode: config.trust.results, listed: config.trust.peers, revoked: config.trust.revoked }
}

import type { Logger } from '../log/logger.js'
import { PeercasError, Status } from '../domain/status.js'
import type { PeercasConfig } from '../config/schema.js'
import type { Digest } from '../store/digest.js'
import type { BlobReader, BlobSink, EvictionGuards, SublevelProvider } from '../store/index.js'
import type { NameIndex } from '../store/name-index.js'
import type { BlobFetcher } from '../resolve/tiered-resolver.js'
import type { NameFetcher } from '../resolve/named-results.js'
import { reapiMessages } from '../domain/messages.js'
import type { RemoteStatus__Output } from '../generated/peercas/admin/v1/RemoteStatus.js'
import type { FlushProgress } from '../generated/peercas/admin/v1/FlushProgress.js'
import { CentralClient } from './central-client.js'
import { CircuitBreaker } from './circuit-breaker.js'
import {
  DEFAULT_FAILURE_THRESHOLD, DEFAULT_MAX_ATTEMPTS, DEFAULT_PROBE_BASE_MS, DEFAULT_PROBE_MAX_MS,
  DEFAULT_RETRY_BASE_MS, DEFAULT_RETRY_MAX_MS, FLUSH_REPORT_INTERVAL_MS, STARTUP_PROBE_WAIT_MS
} from './constants.js'
import { channelCredentials, createTokenSource, parseEndpoint } from './endpoint.js'
import { Semaphore, TokenBucket, sleep } from '../limits/index.js'
import { createReadThrough, PresenceCache } from './read-through.js'
import { jitteredDelay } from './retry.js'
import { UploadQueue } from './upload-queue.js'
import { actionBlobs, Uploader } from './uploader.js'
import { actionResultName, type ResultName } from '../domain/names.js'

export { CentralOfflineError, CentralAuthError, CentralCorruptBlobError, CentralIncompatibleError, CentralTimeoutError, CredentialsFileError, InvalidEndpointError } from './errors.js'

/** What the central-CAS layer needs from the node. */
export interface RemoteComponents {
  config: PeercasConfig
  store: BlobReader & BlobSink & SublevelProvider & EvictionGuards & { readonly names: NameIndex }
  logger: Logger
  /** Tuning that is not configuration (tests shorten these). */
  init?: RemoteInit
  /** The node's shutdown signal: ends probes, uploads and waits. @default never */
  shutdown?: AbortSignal
}

/** Retry, breaker and probe timing. */
export interface RemoteInit {
  /** Attempts per call, first included. @default 4 ({@link DEFAULT_MAX_ATTEMPTS}) */
  maxAttempts?: number
  /** @default 100 */
  retryBaseMs?: number
  /** @default 2000 */
  retryMaxMs?: number
  /** Consecutive failed calls that take the central offline. @default 3 */
  failureThreshold?: number
  /** @default 250 */
  probeBaseMs?: number
  /** @default 5000 */
  probeMaxMs?: number
}

/** The link to the central REAPI CAS: read-through tier and write-behind queue. */
export interface RemoteService {
  /** The central tier of the read path (with `findDurable`). */
  readonly blobFetcher: BlobFetcher
  /** Named-result lookups in the central (its action cache). */
  readonly nameFetcher: NameFetcher
  /** Queues blobs a local client wrote for upload. */
  enqueueBlobs(digests: Digest[]): Promise<void>
  /** Queues an action result a local client wrote for upload (after its blobs). */
  enqueueActionResult(instanceName: string, actionDigest: Digest): Promise<void>
  /**
   * Queues an asset mapping or BuildStream ref this node recorded (pushed by a local client, or
   * downloaded from the origin) for the central's Remote Asset service, with the blobs it needs.
   */
  enqueueName(name: ResultName): Promise<void>
  /** Endpoint, online state, queue and last error, for `peercas status`. */
  status(): RemoteStatus__Output
  /** Yields progress until the queue is empty (or the signal fires). */
  flush(signal: AbortSignal): AsyncIterable<FlushProgress>
  /** Resolves when the central is online (for tests and scripts); rejects when `signal` fires. */
  waitOnline(signal: AbortSignal): Promise<void>
  stop(): Promise<void>
}

/** No central CAS is configured. */
export class RemoteNotConfiguredError extends PeercasError {
  override name = 'RemoteNotConfiguredError'
  readonly status = Status.FAILED_PRECONDITION
}

/** Name of the store sublevel that holds the upload queue. */
export const QUEUE_SUBLEVEL = 'remote-queue'

/**
 * Connects to the central CAS, or returns `undefined` when `config.remote.endpoint` is empty.
 * An unreachable central does not fail the start: the node runs offline and probes in the
 * background. Bad configuration (endpoint, TLS files) throws.
 */
export async function startRemote (components: RemoteComponents): Promise<RemoteService | undefined> {
  const { config, store } = components
  const remote = config.remote
  if (remote.endpoint === '') return undefined
  const log = components.logger
  const tuning = components.init ?? {}
  const endpoint = parseEndpoint(remote.endpoint)
  const credentials = channelCredentials(endpoint, { ca: remote.tlsCa, cert: remote.tlsCert, key: remote.tlsKey })
  const tokens = createTokenSource(remote.tokenFile)
  validate(remote)

  let lastError = ''
  const noteError = (message: string): void => {
    if (message !== lastError) log.warn('central CAS problem', { central: endpoint.url, error: message })
    lastError = message
  }
  // Stopped by stop() or by the node's shutdown signal, whichever comes first.
  const controller = new AbortController()
  components.shutdown?.addEventListener('abort', () => { controller.abort() }, { once: true })
  let probing: Promise<void> | undefined
  const onlineWaiters = new Set<() => void>()
  const breaker = new CircuitBreaker({
    failureThreshold: tuning.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD,
    onOpen: (reason) => {
      noteError(reason)
      log.warn('central CAS is offline; serving locally and queueing uploads', { central: endpoint.url, reason })
      startProbing()
    },
    onClose: () => {
      // A problem from before the central came back is not news any more (status, flush).
      lastError = ''
      log.info('central CAS is online', { central: endpoint.url })
      for (const wake of onlineWaiters) wake()
      uploader?.wake()
    }
  })
  const client = new CentralClient({
    endpoint,
    credentials,
    tokens,
    instanceName: remote.instanceName,
    callTimeoutMs: remote.callTimeout,
    retry: { maxAttempts: tuning.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, baseMs: tuning.retryBaseMs ?? DEFAULT_RETRY_BASE_MS, maxMs: tuning.retryMaxMs ?? DEFAULT_RETRY_MAX_MS },
    breaker,
    logger: log
  })
  const centralInstance = (local: string): string => [remote.instanceName, local].filter((s) => s !== '').join('/')
  const presence = new PresenceCache(remote.findMissingCacheTtl)
  const queue = await UploadQueue.open(store.sublevel(QUEUE_SUBLEVEL))
  store.addEvictionGuard((hash) => queue.hasBlob(hash))
  const uploader: Uploader = new Uploader({
    queue,
    client,
    breaker,
    store,
    presence,
    slots: new Semaphore(remote.uploadConcurrency),
    rate: new TokenBucket(remote.uploadRate),
    centralInstance,
    onError: noteError,
    logger: log.child('upload')
  })
  const { blobFetcher, nameFetcher } = createReadThrough({ client, store, breaker, presence, clientWaitMs: remote.clientWait, centralInstance })

  const probeOnce = async (): Promise<boolean> => {
    try {
      const caps = await client.probe(AbortSignal.any([controller.signal, AbortSignal.timeout(remote.callTimeout)]))
      log.debug('central capabilities', { central: endpoint.url, ...caps })
      breaker.close()
      return true
    } catch (error) {
      if (controller.signal.aborted) return false
      const reason = `${endpoint.url} unreachable: ${(error as Error).message}`
      breaker.trip(reason)
      noteError(reason)
      return false
    }
  }
  function startProbing (): void {
    probing ??= (async () => {
      for (let attempt = 1; !controller.signal.aborted && !breaker.online; attempt++) {
        try {
          await sleep(Math.max(DEFAULT_PROBE_BASE_MS / 2, jitteredDelay(attempt, tuning.probeBaseMs ?? DEFAULT_PROBE_BASE_MS, tuning.probeMaxMs ?? DEFAULT_PROBE_MAX_MS)), controller.signal)
        } catch { break }
        if (await probeOnce()) break
      }
    })().finally(() => { probing = undefined })
  }

  if (queue.length > 0) log.info('upload queue restored', { items: queue.length, bytes: queue.bytes })
  // Wait briefly for the first answer so a healthy central serves the very first requests, but
  // never hold the node's start hostage to a central that does not answer.
  const initial = probeOnce().then((ok) => {
    if (ok || controller.signal.aborted) return
    log.warn('central CAS unreachable at start; running offline and probing in the background', { central: endpoint.url, error: lastError })
    startProbing()
  })
  await Promise.race([initial, sleep(Math.min(remote.clientWait, STARTUP_PROBE_WAIT_MS))])
  uploader.start()

  const expandAction = async (instanceName: string, actionDigest: Digest): Promise<void> => {
    const bytes = await store.names.get(actionResultName(instanceName, actionDigest))
    if (bytes === undefined) return
    const blobs = await actionBlobs(reapiMessages.ActionResult.deserialize(bytes), store)
    if (blobs !== undefined) queue.addBlobs(blobs)
  }

  const snapshot = (): { queueLength: number, queueBytes: number, online: boolean, lastError: string } =>
    ({ queueLength: queue.length, queueBytes: queue.bytes, online: breaker.online, lastError })

  return {
    blobFetcher,
    nameFetcher,
    async enqueueBlobs (digests) {
      if (remote.upload !== 'all') return
      queue.addBlobs(digests.filter((d) => !presence.has(d.hash)))
      // Resolve only once the entries are in LevelDB: the client's write is acknowledged after
      // this, so a crash can no longer lose the upload.
      await queue.settled()
    },
    async enqueueActionResult (instanceName, actionDigest) {
      if (remote.upload === 'none') return
      if (remote.upload === 'ac-only') {
        // Only results are shared: pin and queue the blobs they need (the client queued none).
        try {
          await expandAction(instanceName, actionDigest)
        } catch (error) {
          log.warn('cannot queue an action result for upload', { action: actionDigest.hash, error })
          return
        }
      }
      queue.addAction(instanceName, actionDigest)
      await queue.settled()
    },
    async enqueueName (name) {
      if (remote.upload === 'none' || name.kind === 'action-result' || name.environment !== '') return
      queue.addName(name)
      await queue.settled()
    },
    status () {
      return {
        endpoint: endpoint.url,
        configured: true,
        ...snapshot(),
        uploadedBlobs: uploader.counters.uploadedBlobs,
        uploadedBytes: uploader.counters.uploadedBytes
      }
    },
    async * flush (signal) {
      const startItems = uploader.counters.completedItems
      const startBytes = uploader.counters.uploadedBytes
      const progress = (done: boolean): FlushProgress => ({
        ...snapshot(),
        uploadedBlobs: uploader.counters.completedItems - startItems,
        uploadedBytes: uploader.counters.uploadedBytes - startBytes,
        done
      })
      uploader.wake()
      while (true) {
        if (queue.length === 0) {
          await queue.settled()
          yield progress(true)
          return
        }
        yield progress(false)
        if (signal.aborted) return
        let wake: () => void = () => {}
        const changed = new Promise<void>((resolve) => { wake = resolve })
        const unsubscribe = uploader.onProgress(wake)
        const onAbort = (): void => { wake() }
        signal.addEventListener('abort', onAbort, { once: true })
        await Promise.race([changed, sleep(FLUSH_REPORT_INTERVAL_MS)])
        // Coalesce bursts of progress into one report per interval.
        await sleep(Math.min(50, FLUSH_REPORT_INTERVAL_MS))
        unsubscribe()
        signal.removeEventListener('abort', onAbort)
      }
    },
    async waitOnline (signal) {
      if (breaker.online) return
      await new Promise<void>((resolve, reject) => {
        const done = (): void => { onlineWaiters.delete(done); resolve() }
        onlineWaiters.add(done)
        signal.addEventListener('abort', () => { onlineWaiters.delete(done); reject(signal.reason) }, { once: true })
      })
    },
    async stop () {
      controller.abort()
      await uploader.stop()
      await initial
      await probing
      await queue.settled().catch((error) => { log.error('could not persist the upload queue', { error }) })
      client.close()
    }
  }
}

function validate (remote: PeercasConfig['remote']): void {
  if (!(remote.callTimeout > 0)) throw new RangeError(`remote.callTimeout must be > 0, got ${remote.callTimeout}`)
  if (!(remote.clientWait > 0)) throw new RangeError(`remote.clientWait must be > 0, got ${remote.clientWait}`)
}

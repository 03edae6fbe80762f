import * as grpc from '@grpc/grpc-js'
import { once } from 'node:events'
import type { Readable } from 'node:stream'
import type { Logger } from '../log/logger.js'
import { formatDigest, type Digest } from '../store/digest.js'
import type { BlobSink } from '../store/index.js'
import type { BlobWriter } from '../store/blob-writer.js'
import { DigestMismatchError } from '../store/errors.js'
import { createClients, type ReapiClients } from '../reapi/clients.js'
import { remoteAsset } from '../reapi/protos.js'
import type { FetchClient } from '../generated/build/bazel/remote/asset/v1/Fetch.js'
import type { PushClient } from '../generated/build/bazel/remote/asset/v1/Push.js'
import { readResourceName, uploadResourceName } from '../domain/resource-names.js'
import { MAX_BATCH_TOTAL_SIZE_BYTES } from '../domain/constants.js'
import { reapiMessages } from '../domain/messages.js'
import type { CircuitBreaker } from './circuit-breaker.js'
import { DEFAULT_MAX_BATCH_BYTES, FIND_MISSING_CHUNK, MIN_UPLOAD_RATE_BYTES, STREAM_CHUNK_BYTES } from './constants.js'
import { authMetadata, type CentralEndpoint, type TokenSource } from './endpoint.js'
import { CentralAuthError, CentralCorruptBlobError, CentralIncompatibleError, CentralOfflineError, CentralTimeoutError } from './errors.js'
import type { TokenBucket } from '../limits/index.js'
import type { ActionResult } from '../generated/build/bazel/remote/execution/v2/ActionResult.js'
import { failureKind, grpcCode, isRetryable, isStreamInterruption, withRetries, type RetryInit } from './retry.js'

/** What the central said about itself in GetCapabilities, as far as we act on it. */
export interface CentralCapabilities {
  /** Largest total of blob bytes per Batch* call we will send (the central's limit, capped by ours). */
  readonly maxBatchBytes: number
  /** Whether UpdateActionResult is allowed. */
  readonly acUpdateEnabled: boolean
}

/** What {@link CentralClient} needs. */
export interface CentralClientInit {
  endpoint: CentralEndpoint
  credentials: grpc.ChannelCredentials
  tokens: TokenSource
  /** Instance name on the central for CAS calls. */
  instanceName: string
  /** Deadline of one call attempt, ms. */
  callTimeoutMs: number
  retry: RetryInit
  breaker: CircuitBreaker
  logger: Logger
}

/** Per-blob outcome of a batch upload that did not succeed. */
export interface FailedUpload {
  digest: Digest
  code: number
  message: string
}

/** What became of one blob asked for in a BatchReadBlobs. */
export type BatchReadOutcome =
  /** Verified and in the local store. */
  | { readonly stored: true }
  /** Not stored: the central does not have it (no `error`), or it failed (`error`). */
  | { readonly stored: false, readonly error?: Error }

/** One URI (with its qualifiers) asked of, or pushed to, the central's Remote Asset service. */
export interface CentralAssetRequest {
  /** Instance name on the central. */
  readonly instanceName: string
  readonly uri: string
  readonly qualifiers: ReadonlyArray<{ readonly name: string, readonly value: string }>
  /** FetchBlob / PushBlob, or FetchDirectory / PushDirectory. */
  readonly want: 'blob' | 'directory'
}

/** What the central's Remote Asset service answered for a {@link CentralAssetRequest}. */
export interface CentralAsset {
  /** The blob, or the root Directory. */
  readonly digest: Digest
  /** Epoch ms after which the central does not vouch for it; 0: never. */
  readonly expireAtMs: number
}

/** Options of one logical call to the central. */
interface CallOptions {
  /** Deadline of each attempt, ms. @default remote.callTimeout */
  deadlineMs?: number
  /** Codes that are answers the caller handles: they neither retry nor count against the central. */
  passThrough?: readonly number[]
  /** Which failures earn another attempt. @default {@link isRetryable} */
  retryable?: (error: unknown) => boolean
}

/**
 * A unary method of a generated client, bound to it (`client.Method.bind(client)`). Both of the
 * generated overloads are named so that the request and response types are inferred from the
 * `(request, callback)` one while the call goes through `(request, metadata, options, callback)`.
 */
interface UnaryMethod<Req, Res> {
  (request: Req, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<Res>): grpc.ClientUnaryCall
  (request: Req, callback: grpc.requestCallback<Res>): grpc.ClientUnaryCall
}

/**
 * The REAPI client to one central CAS. Every call gets a deadline, the bearer token, retries with
 * jittered backoff for UNAVAILABLE and RESOURCE_EXHAUSTED, and goes through the circuit breaker:
 * while the central is offline calls fail fast with {@link CentralOfflineError}.
 */
export class CentralClient {
  private clients: ReapiClients & AssetClients
  private caps: CentralCapabilities | undefined
  private acReadSupported = true
  /** False once the central answered a Remote Asset call with UNIMPLEMENTED (it has no such service). */
  private assetsSupported = true
  private noAssetsLogged = false

  constructor (private readonly init: CentralClientInit) {
    this.clients = this.connect()
  }

  /** Capabilities of the current connection (undefined before the first successful probe). */
  get capabilities (): CentralCapabilities | undefined { return this.caps }

  /**
   * Opens a fresh connection and reads the central's capabilities, bypassing the breaker (this is
   * how an offline central is probed). Throws when the central is unreachable or unusable.
   */
  async probe (signal: AbortSignal): Promise<CentralCapabilities> {
    this.clients.close()
    this.clients = this.connect()
    const capabilities = this.clients.capabilities
    const response = await this.attempt(capabilities.GetCapabilities.bind(capabilities), { instanceName: this.init.instanceName }, this.init.callTimeoutMs, signal)
    const cache = response.cacheCapabilities
    if (cache == null) throw new CentralIncompatibleError(`central ${this.init.endpoint.url} offers no CAS (no cache_capabilities)`)
    const functions = cache.digestFunctions ?? []
    if (functions.length > 0 && !functions.includes('SHA256')) {
      throw new CentralIncompatibleError(`central ${this.init.endpoint.url} supports digest functions ${functions.join(', ')}, not SHA256`)
    }
    const advertised = Number(cache.maxBatchTotalSizeBytes ?? 0)
    this.caps = {
      maxBatchBytes: Math.min(advertised > 0 ? advertised : DEFAULT_MAX_BATCH_BYTES, MAX_BATCH_TOTAL_SIZE_BYTES),
      acUpdateEnabled: cache.actionCacheUpdateCapabilities?.updateEnabled === true
    }
    this.acReadSupported = true
    return this.caps
  }

  /** False once the central turned out to have no Remote Asset service. */
  get offersAssets (): boolean { return this.assetsSupported }

  /**
   * Asks the central's Remote Asset service (FetchBlob or FetchDirectory) for one URI. Resolves
   * `undefined` when it does not have it (or refuses the request), and from the first
   * UNIMPLEMENTED on when it has no such service (noted once in the log, at info).
   */
  async fetchAsset (request: CentralAssetRequest, signal: AbortSignal, deadlineMs?: number): Promise<CentralAsset | undefined> {
    if (!this.assetsSupported) return undefined
    const message = {
      instanceName: request.instanceName,
      uris: [request.uri],
      qualifiers: request.qualifiers.map((q) => ({ name: q.name, value: q.value })),
      digestFunction: 'SHA256' as const,
      // The central may download from the origin itself: it should give up before we do.
      timeout: deadlineMs === undefined ? null : { seconds: Math.max(1, Math.floor(deadlineMs * 0.8 / 1000)), nanos: 0 }
    }
    try {
      const fetch = this.clients.assetFetch
      const response = request.want === 'blob'
        ? await this.call('FetchBlob', async (deadline) => await this.attempt(fetch.FetchBlob.bind(fetch), message, deadline, signal), signal, { deadlineMs, passThrough: ASSET_ANSWERS, retryable: retryableAssetFetch })
        : await this.call('FetchDirectory', async (deadline) => await this.attempt(fetch.FetchDirectory.bind(fetch), message, deadline, signal), signal, { deadlineMs, passThrough: ASSET_ANSWERS, retryable: retryableAssetFetch })
      // Some servers answer a failure in the inline status rather than as the call's status.
      if ((response.status?.code ?? 0) !== 0) return undefined
      const digest = 'blobDigest' in response ? response.blobDigest : response.rootDirectoryDigest
      if (digest == null) return undefined
      const expiresAt = response.expiresAt
      const expireAtMs = expiresAt == null ? 0 : Number(expiresAt.seconds ?? 0) * 1000 + Math.floor((expiresAt.nanos ?? 0) / 1e6)
      return { digest: { hash: digest.hash, sizeBytes: Number(digest.sizeBytes) }, expireAtMs }
    } catch (error) {
      if (this.noAssetService(error)) return undefined
      if (ASSET_ANSWERS.includes(grpcCode(error) ?? -1)) return undefined
      throw error
    }
  }

  /**
   * Records a mapping on the central's Remote Asset service (PushBlob or PushDirectory). Resolves
   * `pushed`; `missing-content` when the central says the content is not in its CAS
   * (FAILED_PRECONDITION: upload it, then push again); `refused` when it has no such service or
   * does not take the push (the mapping then stays with this node and its peers).
   */
  async pushAsset (request: CentralAssetRequest, digest: Digest, expireAtMs: number, signal: AbortSignal): Promise<'pushed' | 'missing-content' | 'refused'> {
    if (!this.assetsSupported) return 'refused'
    const common = {
      instanceName: request.instanceName,
      uris: [request.uri],
      qualifiers: request.qualifiers.map((q) => ({ name: q.name, value: q.value })),
      expireAt: expireAtMs > 0 ? { seconds: Math.floor(expireAtMs / 1000), nanos: (expireAtMs % 1000) * 1e6 } : null,
      digestFunction: 'SHA256' as const
    }
    try {
      const push = this.clients.assetPush
      if (request.want === 'blob') {
        await this.call('PushBlob', async (deadline) => await this.attempt(push.PushBlob.bind(push), { ...common, blobDigest: toMessage(digest) }, deadline, signal), signal, { passThrough: ASSET_REFUSALS })
      } else {
        await this.call('PushDirectory', async (deadline) => await this.attempt(push.PushDirectory.bind(push), { ...common, rootDirectoryDigest: toMessage(digest) }, deadline, signal), signal, { passThrough: ASSET_REFUSALS })
      }
      return 'pushed'
    } catch (error) {
      if (this.noAssetService(error)) return 'refused'
      const code = grpcCode(error)
      if (code === grpc.status.FAILED_PRECONDITION) return 'missing-content'
      if (ASSET_REFUSALS.includes(code ?? -1)) {
        this.init.logger.debug('the central refused an asset push', { central: this.init.endpoint.url, uri: request.uri, error: (error as Error).message })
        return 'refused'
      }
      throw error
    }
  }

  /** True (and remembered, logged once) when `error` says the central has no Remote Asset service. */
  private noAssetService (error: unknown): boolean {
    if (grpcCode(error) !== grpc.status.UNIMPLEMENTED) return false
    this.assetsSupported = false
    if (!this.noAssetsLogged) {
      this.noAssetsLogged = true
      this.init.logger.info('the central has no Remote Asset service; assets and refs stay with this node and its peers', { central: this.init.endpoint.url })
    }
    return true
  }

  /** Of `digests`, those the central does not hold (in request order). */
  async findMissing (digests: readonly Digest[], signal: AbortSignal, deadlineMs?: number): Promise<Digest[]> {
    const missing: Digest[] = []
    for (let at = 0; at < digests.length; at += FIND_MISSING_CHUNK) {
      const chunk = digests.slice(at, at + FIND_MISSING_CHUNK)
      const cas = this.clients.cas
      const response = await this.call('FindMissingBlobs', async (deadline) =>
        await this.attempt(cas.FindMissingBlobs.bind(cas),
          { instanceName: this.init.instanceName, blobDigests: chunk.map(toMessage), digestFunction: 'SHA256' }, deadline, signal), signal, { deadlineMs })
      for (const d of response.missingBlobDigests) missing.push({ hash: d.hash, sizeBytes: Number(d.sizeBytes) })
    }
    return missing
  }

  /**
   * Reads small blobs with one BatchReadBlobs and stores each, verified, in `store`. Resolves
   * with one outcome per digest asked for (keyed by `formatDigest`): stored, absent on the
   * central, or failed (bytes that do not match are a {@link CentralCorruptBlobError}). One bad
   * blob fails only its own entry; a failed call rejects.
   */
  async batchReadInto (digests: readonly Digest[], store: BlobSink, signal: AbortSignal, deadlineMs?: number): Promise<Map<string, BatchReadOutcome>> {
    const response = await this.call('BatchReadBlobs', async (deadline) =>
      await this.attempt(this.clients.cas.BatchReadBlobs.bind(this.clients.cas),
        { instanceName: this.init.instanceName, digests: digests.map(toMessage), digestFunction: 'SHA256' }, deadline, signal), signal, { deadlineMs })
    const asked = new Map(digests.map((d) => [formatDigest(d), d]))
    const outcomes = new Map<string, BatchReadOutcome>([...asked.keys()].map((key) => [key, { stored: false }]))
    const received = new Map<string, { digest: Digest, data: Buffer }>()
    for (const entry of response.responses) {
      // Entries the central could not serve (NOT_FOUND or any other per-blob status) stay "not stored".
      if ((entry.status?.code ?? 0) !== 0 || entry.digest == null) continue
      const key = formatDigest({ hash: entry.digest.hash, sizeBytes: Number(entry.digest.sizeBytes) })
      const digest = asked.get(key)
      if (digest !== undefined && !received.has(key)) received.set(key, { digest, data: entry.data })
    }
    if (received.size === 0) return outcomes
    const blobs = [...received.values()]
    const errors = await store.putMany(blobs)
    blobs.forEach(({ digest }, i) => {
      const error = errors[i]
      if (error === undefined) outcomes.set(formatDigest(digest), { stored: true })
      else outcomes.set(formatDigest(digest), { stored: false, error: error instanceof DigestMismatchError ? this.corruptBlob(digest, error) : error })
    })
    return outcomes
  }

  /**
   * Streams one blob from ByteStream.Read into `store`, verified. Returns false if the central
   * does not have it. An attempt fails if no bytes arrive for `idleMs`. A read that breaks after
   * it delivered bytes (reset connection, UNAVAILABLE, a deadline, a stall) is resumed at the
   * offset received rather than from the start, within the usual number of attempts. The SHA-256
   * runs over the whole blob across attempts, so bytes sent after a resume are verified like the
   * rest, and a blob that does not verify is never stored.
   */
  async streamInto (digest: Digest, store: BlobSink, signal: AbortSignal, idleMs: number): Promise<boolean> {
    let writer = store.createWriter(digest)
    let progressed = false
    let interruption = ''
    // The central refused a read at an offset: from then on every attempt starts at 0.
    let resumeRefused = false
    const restart = async (): Promise<void> => {
      await writer.abort()
      writer = store.createWriter(digest)
    }
    try {
      const found = await this.call('ByteStream.Read', async () => {
        if (resumeRefused && writer.receivedBytes > 0) await restart()
        const from = writer.receivedBytes
        if (from > 0 && from < digest.sizeBytes) {
          this.init.logger.info('resuming an interrupted read from the central', { central: this.init.endpoint.url, hash: digest.hash, size: digest.sizeBytes, offset: from, after: interruption })
        }
        try {
          return await this.readInto(digest, writer, signal, idleMs)
        } catch (error) {
          interruption = (error as Error).message
          if (from > 0 && refusesReadOffset(error)) {
            resumeRefused = true
            this.init.logger.info('the central refused to resume a read at an offset; reading the blob again from the start', { central: this.init.endpoint.url, hash: digest.hash, offset: from, error: interruption })
            await restart()
            return await this.readInto(digest, writer, signal, idleMs)
          }
          throw error
        } finally {
          progressed = writer.receivedBytes > from
        }
      }, signal, { retryable: (error) => isRetryable(error) || (progressed && isStreamInterruption(error)) })
      if (!found) return false
      await writer.commit()
      return true
    } catch (error) {
      if (error instanceof DigestMismatchError) throw this.corruptBlob(digest, error)
      throw error
    } finally {
      // Nothing unverified stays behind (a no-op after a commit).
      await writer.abort()
    }
  }

  /**
   * One ByteStream.Read attempt, from the first byte `writer` has not received yet. Returns false
   * on NOT_FOUND. Throws {@link CentralCorruptBlobError} if the central sends more bytes than
   * the blob has (e.g. it ignored the read offset).
   */
  private async readInto (digest: Digest, writer: BlobWriter, signal: AbortSignal, idleMs: number): Promise<boolean> {
    const offset = writer.receivedBytes
    // Every byte arrived before the stream broke: only the commit's verification is left.
    if (offset > 0 && offset >= digest.sizeBytes) return true
    const call = this.clients.byteStream.Read({ resourceName: readResourceName(digest, this.init.instanceName), readOffset: offset, readLimit: 0 }, authMetadata(this.init.tokens)) as unknown as Readable & AsyncIterable<{ data: Buffer }> & { cancel: () => void }
    let idle: NodeJS.Timeout | undefined
    const arm = (): void => {
      clearTimeout(idle)
      idle = setTimeout(() => { call.destroy(new CentralTimeoutError(`central ${this.init.endpoint.url} sent nothing for ${idleMs} ms while reading ${digest.hash}/${digest.sizeBytes} at offset ${writer.receivedBytes}`)) }, idleMs)
    }
    const onAbort = (): void => { call.destroy(signal.reason as Error) }
    signal.addEventListener('abort', onAbort, { once: true })
    let complete = false
    try {
      arm()
      for await (const message of call) {
        arm()
        await writer.write(message.data)
      }
      complete = true
      return true
    } catch (error) {
      if (grpcCode(error) === grpc.status.NOT_FOUND) return false
      if (error instanceof DigestMismatchError) throw this.corruptBlob(digest, error)
      throw error
    } finally {
      clearTimeout(idle)
      signal.removeEventListener('abort', onAbort)
      // Destroying the readable does not end the gRPC call; cancel it so the central stops sending.
      if (!complete) call.cancel()
    }
  }

  private corruptBlob (digest: Digest, cause: Error): CentralCorruptBlobError {
    return new CentralCorruptBlobError(`central ${this.init.endpoint.url} returned corrupt bytes for ${digest.hash}/${digest.sizeBytes}: ${cause.message}`, { cause })
  }

  /** Uploads blobs held in memory with BatchUpdateBlobs; returns the ones the central rejected. */
  async batchUpdate (blobs: Array<{ digest: Digest, data: Buffer }>, signal: AbortSignal): Promise<FailedUpload[]> {
    const response = await this.call('BatchUpdateBlobs', async (deadline) =>
      await this.attempt(this.clients.cas.BatchUpdateBlobs.bind(this.clients.cas),
        { instanceName: this.init.instanceName, requests: blobs.map((b) => ({ digest: toMessage(b.digest), data: b.data })), digestFunction: 'SHA256' }, deadline, signal), signal)
    const failed: FailedUpload[] = []
    for (const entry of response.responses) {
      const code = entry.status?.code ?? 0
      if (code === 0) continue
      const digest = blobs.find((b) => b.digest.hash === entry.digest?.hash)?.digest
      if (digest !== undefined) failed.push({ digest, code, message: entry.status?.message ?? '' })
    }
    return failed
  }

  /** Uploads one blob with ByteStream.Write, reading it afresh from `open()` on each attempt. */
  async write (digest: Digest, open: () => Promise<AsyncIterable<Buffer> | undefined>, rate: TokenBucket, signal: AbortSignal): Promise<boolean> {
    const timeout = this.init.callTimeoutMs + (digest.sizeBytes / MIN_UPLOAD_RATE_BYTES) * 1000
    return await this.call('ByteStream.Write', async (deadline) => {
      const source = await open()
      if (source === undefined) return false
      try {
        await this.writeOnce(digest, source, rate, deadline, signal)
      } finally {
        // A local read stream pins its blob until closed; close it even when the upload failed.
        if (typeof (source as Partial<Readable>).destroy === 'function') (source as Readable).destroy()
      }
      return true
    }, signal, { deadlineMs: timeout })
  }

  private async writeOnce (digest: Digest, source: AsyncIterable<Buffer>, rate: TokenBucket, deadline: Date, signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      let settled = false
      const finished = new AbortController()
      const call = this.clients.byteStream.Write(authMetadata(this.init.tokens), { deadline }, (error) => {
        settled = true
        finished.abort()
        signal.removeEventListener('abort', onAbort)
        if (error != null) reject(error); else resolve()
      })
      const onAbort = (): void => { call.cancel() }
      signal.addEventListener('abort', onAbort, { once: true })
      void (async () => {
        const resourceName = uploadResourceName(digest, this.init.instanceName)
        let offset = 0
        for await (const chunk of rechunk(source, STREAM_CHUNK_BYTES)) {
          if (settled) return
          await rate.take(chunk.byteLength, signal)
          if (!call.write({ resourceName: offset === 0 ? resourceName : '', writeOffset: offset, data: chunk, finishWrite: offset + chunk.byteLength === digest.sizeBytes })) await once(call, 'drain', { signal: finished.signal })
          offset += chunk.byteLength
        }
        call.end()
      })().catch((error) => { call.cancel(); if (!settled) reject(error) })
    })
  }

  /** The central's ActionResult bytes for an action, or `undefined`. */
  async getActionResult (instanceName: string, actionDigest: Digest, signal: AbortSignal, deadlineMs?: number): Promise<Buffer | undefined> {
    if (!this.acReadSupported) return undefined
    try {
      const result = await this.call('GetActionResult', async (deadline) =>
        await this.attempt(this.clients.actionCache.GetActionResult.bind(this.clients.actionCache),
          { instanceName, actionDigest: toMessage(actionDigest), inlineStdout: false, inlineStderr: false, digestFunction: 'SHA256' }, deadline, signal), signal, { deadlineMs })
      return reapiMessages.ActionResult.serialize(result)
    } catch (error) {
      const code = grpcCode(error)
      if (code === grpc.status.NOT_FOUND) return undefined
      if (code === grpc.status.UNIMPLEMENTED) {
        this.acReadSupported = false
        this.init.logger.info('the central has no action cache; action results stay with this node and its peers', { central: this.init.endpoint.url })
        return undefined
      }
      throw error
    }
  }

  /**
   * Stores an ActionResult on the central. Returns false when the central refuses AC updates
   * (PERMISSION_DENIED, UNIMPLEMENTED, FAILED_PRECONDITION): the entry then stays local.
   */
  async updateActionResult (instanceName: string, actionDigest: Digest, result: ActionResult, signal: AbortSignal): Promise<boolean> {
    try {
      await this.call('UpdateActionResult', async (deadline) =>
        await this.attempt(this.clients.actionCache.UpdateActionResult.bind(this.clients.actionCache),
          { instanceName, actionDigest: toMessage(actionDigest), actionResult: result, digestFunction: 'SHA256' }, deadline, signal), signal, { passThrough: ACTION_REFUSALS })
      return true
    } catch (error) {
      if (ACTION_REFUSALS.includes(grpcCode(error) ?? -1)) return false
      throw error
    }
  }

  /** Closes the connection. */
  close (): void {
    this.clients.close()
  }

  private connect (): ReapiClients & AssetClients {
    const options: grpc.ChannelOptions = {
      // A restarted central should be found by the next probe, not after grpc-js's 2-minute backoff.
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 5_000,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.enable_retries': 0
    }
    const clients = createClients(this.init.endpoint.target, this.init.credentials, options)
    const shared = { ...options, channelOverride: clients.cas.getChannel() }
    return {
      ...clients,
      assetFetch: new remoteAsset.Fetch(this.init.endpoint.target, this.init.credentials, shared),
      assetPush: new remoteAsset.Push(this.init.endpoint.target, this.init.credentials, shared)
    }
  }

  /** One logical call: retries, deadline per attempt, breaker accounting. */
  private async call<T> (what: string, attempt: (deadline: Date) => Promise<T>, signal: AbortSignal, options: CallOptions = {}): Promise<T> {
    const { breaker, endpoint } = this.init
    const passThrough = options.passThrough ?? []
    if (!breaker.online) throw new CentralOfflineError(`central ${endpoint.url} is offline (${breaker.lastReason}); ${what} not attempted`)
    const perAttempt = options.deadlineMs ?? this.init.callTimeoutMs
    try {
      const result = await withRetries(async () => {
        if (!breaker.online) throw new CentralOfflineError(`central ${endpoint.url} went offline (${breaker.lastReason}); ${what} not attempted`)
        return await attempt(new Date(Date.now() + perAttempt))
      }, this.init.retry, signal, options.retryable)
      breaker.success()
      return result
    } catch (error) {
      if (error instanceof CentralOfflineError || error instanceof CentralCorruptBlobError || passThrough.includes(grpcCode(error) ?? -1)) throw error
      if (signal.aborted) {
        // The caller's deadline (a local client's wait) ran out: the central was too slow.
        const reason = signal.reason as Error | undefined
        const timeout = new CentralTimeoutError(`central ${endpoint.url} did not answer ${what} in time${reason?.name === 'TimeoutError' ? '' : ` (${reason?.message ?? 'aborted'})`}`, { cause: error })
        if (reason?.name === 'TimeoutError') breaker.failure({ code: grpc.status.DEADLINE_EXCEEDED }, timeout.message)
        throw timeout
      }
      const code = grpcCode(error)
      const details = (error as Error).message
      if (failureKind(error) === 'auth') {
        this.init.tokens.invalidate()
        const auth = new CentralAuthError(`central ${endpoint.url} refused our credentials on ${what} (${grpc.status[code!]}): ${details}; check remote.tokenFile / remote.tlsCert`, { cause: error })
        breaker.failure(error, auth.message)
        throw auth
      }
      breaker.failure(error, `${what} failed: ${details}`)
      throw error
    }
  }

  /** One attempt of a unary call with the token, a deadline and cancellation on `signal`. */
  private async attempt<Req, Res> (method: UnaryMethod<Req, Res>, request: Req, deadline: Date | number, signal: AbortSignal): Promise<Res> {
    const when = typeof deadline === 'number' ? new Date(Date.now() + deadline) : deadline
    return await new Promise<Res>((resolve, reject) => {
      const call = method(request, authMetadata(this.init.tokens), { deadline: when }, (error, response) => {
        signal.removeEventListener('abort', onAbort)
        if (error != null) reject(error); else resolve(response as Res)
      })
      const onAbort = (): void => { call.cancel() }
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}

const ACTION_REFUSALS: readonly number[] = [grpc.status.PERMISSION_DENIED, grpc.status.UNIMPLEMENTED, grpc.status.FAILED_PRECONDITION]

/**
 * Statuses of a Remote Asset fetch that are answers, not faults of the central: it does not have
 * the content (NOT_FOUND, or its own origin download failed or was too slow or too large), does
 * not understand a qualifier (INVALID_ARGUMENT), or has no such service (UNIMPLEMENTED).
 */
const ASSET_ANSWERS: readonly number[] = [
  grpc.status.NOT_FOUND, grpc.status.INVALID_ARGUMENT, grpc.status.UNIMPLEMENTED, grpc.status.FAILED_PRECONDITION,
  grpc.status.DATA_LOSS, grpc.status.DEADLINE_EXCEEDED, grpc.status.RESOURCE_EXHAUSTED
]

/** A failed fetch worth another attempt: transport trouble, not one of the {@link ASSET_ANSWERS}. */
function retryableAssetFetch (error: unknown): boolean {
  return isRetryable(error) && !ASSET_ANSWERS.includes(grpcCode(error) ?? -1)
}

/** Statuses of a Remote Asset push that mean "not taken here": the mapping stays local. */
const ASSET_REFUSALS: readonly number[] = [grpc.status.PERMISSION_DENIED, grpc.status.UNIMPLEMENTED, grpc.status.FAILED_PRECONDITION, grpc.status.INVALID_ARGUMENT]

/** The Remote Asset clients, on the CAS channel. */
interface AssetClients {
  assetFetch: FetchClient
  assetPush: PushClient
}

function toMessage (digest: Digest): { hash: string, sizeBytes: number } {
  return { hash: digest.hash, sizeBytes: digest.sizeBytes }
}

/** Re-slices a stream of buffers into chunks of at most `size` bytes. */
async function * rechunk (source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    for (let at = 0; at < chunk.byteLength; at += size) yield chunk.subarray(at, at + size)
  }
}

/** A central answering a read at an offset this way does not support read_offset (or not here). */
function refusesReadOffset (error: unknown): boolean {
  const code = grpcCode(error)
  return code === grpc.status.INVALID_ARGUMENT || code === grpc.status.OUT_OF_RANGE || code === grpc.status.UNIMPLEMENTED
}

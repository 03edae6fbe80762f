import * as grpc from '@grpc/grpc-js'
import { once } from 'node:events'
import type { Readable } from 'node:stream'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { LocalStore } from '../store/local-store.js'
import { DigestMismatchError } from '../store/errors.js'
import { createClients, readResourceName, uploadResourceName, type ReapiClients } from '../reapi/clients.js'
import { MAX_BATCH_TOTAL_SIZE_BYTES } from '../reapi/constants.js'
import { reapi } from '../reapi/protos.js'
import type { CircuitBreaker } from './circuit-breaker.js'
import { DEFAULT_MAX_BATCH_BYTES, FIND_MISSING_CHUNK, MIN_UPLOAD_RATE_BYTES, STREAM_CHUNK_BYTES } from './constants.js'
import { authMetadata, type CentralEndpoint, type TokenSource } from './endpoint.js'
import { CentralAuthError, CentralCorruptBlobError, CentralIncompatibleError, CentralOfflineError, CentralTimeoutError } from './errors.js'
import type { TokenBucket } from '../limits/index.js'
import { failureKind, grpcCode, withRetries, type RetryInit } from './retry.js'

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

type UnaryFn<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (error: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall

/**
 * The REAPI client to one central CAS. Every call gets a deadline, the bearer token, retries with
 * jittered backoff for UNAVAILABLE and RESOURCE_EXHAUSTED, and goes through the circuit breaker:
 * while the central is offline calls fail fast with {@link CentralOfflineError}.
 */
export class CentralClient {
  private clients: ReapiClients
  private caps: CentralCapabilities | undefined
  private acReadSupported = true

  constructor (private readonly init: CentralClientInit) {
    this.clients = this.connect()
  }

  /** Capabilities of the current connection (undefined before the first successful probe). */
  get capabilities (): CentralCapabilities | undefined { return this.caps }

  /** The instance name used for CAS calls. */
  get instanceName (): string { return this.init.instanceName }

  /**
   * Opens a fresh connection and reads the central's capabilities, bypassing the breaker (this is
   * how an offline central is probed). Throws when the central is unreachable or unusable.
   */
  async probe (signal: AbortSignal): Promise<CentralCapabilities> {
    this.clients.close()
    this.clients = this.connect()
    const capabilities = this.clients.capabilities
    const response = await this.attempt(capabilities.GetCapabilities.bind(capabilities) as unknown as UnaryFn<object, { cacheCapabilities?: { digestFunctions?: string[], maxBatchTotalSizeBytes?: number | string, actionCacheUpdateCapabilities?: { updateEnabled?: boolean } | null } | null }>, { instanceName: this.init.instanceName }, this.init.callTimeoutMs, signal)
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

  /** Of `digests`, those the central does not hold (in request order). */
  async findMissing (digests: readonly Digest[], signal: AbortSignal, deadlineMs?: number): Promise<Digest[]> {
    const missing: Digest[] = []
    for (let at = 0; at < digests.length; at += FIND_MISSING_CHUNK) {
      const chunk = digests.slice(at, at + FIND_MISSING_CHUNK)
      const cas = this.clients.cas
      const response = await this.call('FindMissingBlobs', async (deadline) =>
        await this.attempt(this.clients.cas.FindMissingBlobs.bind(cas) as unknown as UnaryFn<object, { missingBlobDigests: Array<{ hash: string, sizeBytes: number | string }> }>,
          { instanceName: this.init.instanceName, blobDigests: chunk.map(toMessage), digestFunction: 'SHA256' }, deadline, signal), signal, deadlineMs)
      for (const d of response.missingBlobDigests) missing.push({ hash: d.hash, sizeBytes: Number(d.sizeBytes) })
    }
    return missing
  }

  /**
   * Reads small blobs with one BatchReadBlobs and stores each, verified, in `store`. Returns the
   * hashes stored. Throws {@link CentralCorruptBlobError} if any blob's bytes do not match.
   */
  async batchReadInto (digests: readonly Digest[], store: LocalStore, signal: AbortSignal, deadlineMs?: number): Promise<Set<string>> {
    const response = await this.call('BatchReadBlobs', async (deadline) =>
      await this.attempt(this.clients.cas.BatchReadBlobs.bind(this.clients.cas) as unknown as UnaryFn<object, { responses: Array<{ digest?: { hash: string, sizeBytes: number | string } | null, data: Buffer, status?: { code: number } | null }> }>,
        { instanceName: this.init.instanceName, digests: digests.map(toMessage), digestFunction: 'SHA256' }, deadline, signal), signal, deadlineMs)
    const stored = new Set<string>()
    let corrupt: Error | undefined
    for (const entry of response.responses) {
      if ((entry.status?.code ?? 0) !== 0 || entry.digest == null) continue
      const digest = digests.find((d) => d.hash === entry.digest?.hash)
      if (digest === undefined) continue
      try {
        await store.put(digest, entry.data)
        stored.add(digest.hash)
      } catch (error) {
        if (!(error instanceof DigestMismatchError)) throw error
        corrupt = new CentralCorruptBlobError(`central ${this.init.endpoint.url} returned corrupt bytes for ${digest.hash}/${digest.sizeBytes}: ${error.message}`, { cause: error })
      }
    }
    if (corrupt !== undefined) throw corrupt
    return stored
  }

  /**
   * Streams one blob from ByteStream.Read into `store`, verified. Returns false if the central
   * does not have it. Fails if no bytes arrive for `idleMs`.
   */
  async streamInto (digest: Digest, store: LocalStore, signal: AbortSignal, idleMs: number): Promise<boolean> {
    return await this.call('ByteStream.Read', async () => {
      const call = this.clients.byteStream.Read({ resourceName: readResourceName(digest, this.init.instanceName), readOffset: 0, readLimit: 0 }, authMetadata(this.init.tokens)) as unknown as Readable & AsyncIterable<{ data: Buffer }>
      const writer = store.createWriter(digest)
      let idle: NodeJS.Timeout | undefined
      const arm = (): void => {
        clearTimeout(idle)
        idle = setTimeout(() => { call.destroy(new CentralTimeoutError(`central ${this.init.endpoint.url} sent nothing for ${idleMs} ms while reading ${digest.hash}/${digest.sizeBytes}`)) }, idleMs)
      }
      const onAbort = (): void => { call.destroy(signal.reason as Error) }
      signal.addEventListener('abort', onAbort, { once: true })
      try {
        arm()
        for await (const message of call) {
          arm()
          await writer.write(message.data)
        }
        await writer.commit()
        return true
      } catch (error) {
        await writer.abort()
        if (grpcCode(error) === grpc.status.NOT_FOUND) return false
        if (error instanceof DigestMismatchError) throw new CentralCorruptBlobError(`central ${this.init.endpoint.url} returned corrupt bytes for ${digest.hash}/${digest.sizeBytes}: ${error.message}`, { cause: error })
        throw error
      } finally {
        clearTimeout(idle)
        signal.removeEventListener('abort', onAbort)
      }
    }, signal)
  }

  /** Uploads blobs held in memory with BatchUpdateBlobs; returns the ones the central rejected. */
  async batchUpdate (blobs: Array<{ digest: Digest, data: Buffer }>, signal: AbortSignal): Promise<FailedUpload[]> {
    const response = await this.call('BatchUpdateBlobs', async (deadline) =>
      await this.attempt(this.clients.cas.BatchUpdateBlobs.bind(this.clients.cas) as unknown as UnaryFn<object, { responses: Array<{ digest?: { hash: string } | null, status?: { code: number, message: string } | null }> }>,
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
    }, signal, timeout)
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
        await this.attempt(this.clients.actionCache.GetActionResult.bind(this.clients.actionCache) as unknown as UnaryFn<object, object>,
          { instanceName, actionDigest: toMessage(actionDigest), inlineStdout: false, inlineStderr: false, digestFunction: 'SHA256' }, deadline, signal), signal, deadlineMs)
      return reapi.ActionResult.serialize(result)
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
  async updateActionResult (instanceName: string, actionDigest: Digest, result: object, signal: AbortSignal): Promise<boolean> {
    try {
      await this.call('UpdateActionResult', async (deadline) =>
        await this.attempt(this.clients.actionCache.UpdateActionResult.bind(this.clients.actionCache) as unknown as UnaryFn<object, object>,
          { instanceName, actionDigest: toMessage(actionDigest), actionResult: result, digestFunction: 'SHA256' }, deadline, signal), signal, undefined, ACTION_REFUSALS)
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

  private connect (): ReapiClients {
    const options: grpc.ChannelOptions = {
      // A restarted central should be found by the next probe, not after grpc-js's 2-minute backoff.
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 5_000,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.enable_retries': 0
    }
    return createClients(this.init.endpoint.target, this.init.credentials, options)
  }

  /**
   * One logical call: retries, deadline per attempt, breaker accounting. `passThrough` codes are
   * answers the caller handles (they neither retry nor count against the central).
   */
  private async call<T> (what: string, attempt: (deadline: Date) => Promise<T>, signal: AbortSignal, deadlineMs?: number, passThrough: readonly number[] = []): Promise<T> {
    const { breaker, endpoint } = this.init
    if (!breaker.online) throw new CentralOfflineError(`central ${endpoint.url} is offline (${breaker.lastReason}); ${what} not attempted`)
    const perAttempt = deadlineMs ?? this.init.callTimeoutMs
    try {
      const result = await withRetries(async () => {
        if (!breaker.online) throw new CentralOfflineError(`central ${endpoint.url} went offline (${breaker.lastReason}); ${what} not attempted`)
        return await attempt(new Date(Date.now() + perAttempt))
      }, this.init.retry, signal)
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
  private async attempt<Req, Res> (fn: UnaryFn<Req, Res>, request: Req, deadline: Date | number, signal: AbortSignal): Promise<Res> {
    const when = typeof deadline === 'number' ? new Date(Date.now() + deadline) : deadline
    return await new Promise<Res>((resolve, reject) => {
      const call = fn(request, authMetadata(this.init.tokens), { deadline: when }, (error, response) => {
        signal.removeEventListener('abort', onAbort)
        if (error != null) reject(error); else resolve(response as Res)
      })
      const onAbort = (): void => { call.cancel() }
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }
}

const ACTION_REFUSALS: readonly number[] = [grpc.status.PERMISSION_DENIED, grpc.status.UNIMPLEMENTED, grpc.status.FAILED_PRECONDITION]

function toMessage (digest: Digest): { hash: string, sizeBytes: number } {
  return { hash: digest.hash, sizeBytes: digest.sizeBytes }
}

/** Re-slices a stream of buffers into chunks of at most `size` bytes. */
async function * rechunk (source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    for (let at = 0; at < chunk.byteLength; at += size) yield chunk.subarray(at, at + size)
  }
}

import { createHash, randomUUID, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, rm } from 'node:fs/promises'
import * as http from 'node:http'
import * as https from 'node:https'
import { join } from 'node:path'
import { formatSri, type SriHash } from '../domain/assets.js'
import { silentLogger, type Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { BlobSink } from '../store/index.js'
import type { AssetOrigin } from '../resolve/assets.js'
import { MAX_REDIRECTS, ORIGIN_USER_AGENT, SPOOL_READ_CHUNK_BYTES } from './constants.js'
import { ChecksumMismatchError, OriginNotFoundError, OriginRefusedError, OriginTimeoutError, OriginTooLargeError, OriginUnavailableError } from './errors.js'

/** Options of {@link HttpOrigin}. */
export interface HttpOriginInit {
  /** Where verified downloads are stored. */
  sink: BlobSink
  /** Where a download is spooled until it is verified (created if missing). */
  tempDir: string
  /** Longest a download may take, redirects included. */
  timeoutMs: number
  /** Largest content accepted, in bytes. */
  maxBytes: number
  /**
   * Proxy settings are read from here: `HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY` (either case).
   * @default process.env
   */
  env?: NodeJS.ProcessEnv
  logger?: Logger
}

/** Options of one download. */
export interface OriginFetchOptions {
  /** The expected hashes (`checksum.sri`); the bytes are stored only if every one matches. */
  sri?: readonly SriHash[]
  /** A shorter timeout than the node's (the request's own). */
  timeoutMs?: number
  signal: AbortSignal
}

/**
 * Downloads assets from their origin over HTTP(S), for the Remote Asset API when no tier has
 * them. The body is spooled to a temp file while it is hashed; only after the size cap and
 * every `checksum.sri` hash check out is it streamed into the store (which verifies it once
 * more against its digest), so unverified bytes are never stored.
 */
export class HttpOrigin implements AssetOrigin {
  private readonly log: Logger
  private readonly agents: { http: http.Agent, https: https.Agent }

  constructor (private readonly init: HttpOriginInit) {
    if (!(init.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${init.timeoutMs}`)
    if (!(init.maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${init.maxBytes}`)
    this.log = init.logger ?? silentLogger
    // Node 22.21+ agents route through HTTP(S)_PROXY and honour NO_PROXY when given `proxyEnv`
    // (not yet in @types/node, hence the widened option type).
    const proxy = { proxyEnv: init.env ?? process.env, keepAlive: false } as http.AgentOptions
    this.agents = { http: new http.Agent(proxy), https: new https.Agent(proxy) }
  }

  /** True for the URIs this origin can fetch (http and https URLs). */
  canFetch (uri: string): boolean {
    return /^https?:\/\//i.test(uri)
  }

  /** Downloads `uri`, verifies it and stores it; returns its digest. */
  async fetch (uri: string, options: OriginFetchOptions): Promise<Digest> {
    const timeoutMs = Math.min(options.timeoutMs ?? Infinity, this.init.timeoutMs)
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = AbortSignal.any([options.signal, timeout])
    const started = Date.now()
    await mkdir(this.init.tempDir, { recursive: true })
    const spool = join(this.init.tempDir, `origin-${randomUUID()}`)
    try {
      const { digest, hashes } = await this.download(uri, spool, options.sri ?? [], signal).catch((error: unknown) => {
        if (timeout.aborted && !options.signal.aborted) throw new OriginTimeoutError(`download of ${uri} took longer than ${timeoutMs} ms`, { cause: error })
        throw error
      })
      for (const expected of options.sri ?? []) {
        const got = hashes.get(expected.algorithm)!
        if (!got.equals(expected.digest)) {
          throw new ChecksumMismatchError(`bytes from ${uri} do not match checksum.sri: expected ${formatSri(expected)}, got ${formatSri({ algorithm: expected.algorithm, digest: got })}; nothing was stored`)
        }
      }
      await this.store(spool, digest)
      this.log.info('asset downloaded from origin', { uri, bytes: digest.sizeBytes, ms: Date.now() - started })
      return digest
    } finally {
      await rm(spool, { force: true })
    }
  }

  /** Closes idle connections. */
  close (): void {
    this.agents.http.destroy()
    this.agents.https.destroy()
  }

  private async download (uri: string, spool: string, sri: readonly SriHash[], signal: AbortSignal): Promise<{ digest: Digest, hashes: Map<string, Buffer> }> {
    const response = await this.get(uri, signal)
    const declared = Number(response.headers['content-length'])
    if (Number.isFinite(declared) && declared > this.init.maxBytes) {
      response.destroy()
      throw new OriginTooLargeError(`${uri} is ${declared} bytes; this node downloads at most ${this.init.maxBytes} (assets.maxDownloadSize)`)
    }
    const sha256 = createHash('sha256')
    const others = new Map<string, Hash>()
    for (const { algorithm } of sri) if (algorithm !== 'sha256') others.set(algorithm, createHash(algorithm))
    const file = await open(spool, 'wx', 0o600)
    let size = 0
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        size += chunk.byteLength
        if (size > this.init.maxBytes) {
          response.destroy()
          throw new OriginTooLargeError(`${uri} sent more than ${this.init.maxBytes} bytes; this node downloads at most that (assets.maxDownloadSize)`)
        }
        sha256.update(chunk)
        for (const hash of others.values()) hash.update(chunk)
        await file.write(chunk)
      }
    } catch (error) {
      response.destroy()
      if (error instanceof OriginTooLargeError || signal.aborted) throw error
      throw new OriginUnavailableError(`download of ${uri} failed: ${(error as Error).message}`, { cause: error })
    } finally {
      await file.close()
    }
    const hashes = new Map<string, Buffer>([['sha256', sha256.digest()]])
    for (const [algorithm, hash] of others) hashes.set(algorithm, hash.digest())
    return { digest: { hash: hashes.get('sha256')!.toString('hex'), sizeBytes: size }, hashes }
  }

  /** GET with redirects; resolves with a 200 response, throws a status-bearing error otherwise. */
  private async get (uri: string, signal: AbortSignal): Promise<http.IncomingMessage> {
    let url = uri
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const response = await this.request(url, signal)
      const status = response.statusCode ?? 0
      if (status === 200) return response
      response.resume()
      const location = response.headers.location
      if (status >= 300 && status < 400 && location !== undefined) {
        const next = new URL(location, url)
        if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new OriginUnavailableError(`${url} redirects to ${next.protocol} URL; only http and https are followed`)
        url = next.href
        continue
      }
      const what = `${uri}${url !== uri ? ` (redirected to ${url})` : ''} answered HTTP ${status}`
      if (status === 404 || status === 410) throw new OriginNotFoundError(what)
      if (status === 401 || status === 403) throw new OriginRefusedError(what)
      throw new OriginUnavailableError(what)
    }
    throw new OriginUnavailableError(`${uri} redirected more than ${MAX_REDIRECTS} times`)
  }

  private async request (url: string, signal: AbortSignal): Promise<http.IncomingMessage> {
    const secure = url.toLowerCase().startsWith('https:')
    const get = secure ? https.get : http.get
    return await new Promise((resolve, reject) => {
      const request = get(url, {
        agent: secure ? this.agents.https : this.agents.http,
        headers: { 'user-agent': ORIGIN_USER_AGENT, 'accept-encoding': 'identity' },
        signal
      }, resolve)
      request.on('error', (error) => {
        if (signal.aborted) reject(signal.reason); else reject(new OriginUnavailableError(`cannot download ${url}: ${error.message}`, { cause: error }))
      })
    })
  }

  private async store (spool: string, digest: Digest): Promise<void> {
    const writer = this.init.sink.createWriter(digest)
    try {
      for await (const chunk of createReadStream(spool, { highWaterMark: SPOOL_READ_CHUNK_BYTES })) await writer.write(chunk as Buffer)
      await writer.commit()
    } catch (error) {
      await writer.abort().catch(() => {})
      throw error
    }
  }
}

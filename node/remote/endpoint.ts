import * as grpc from '@grpc/grpc-js'
import { readFileSync, statSync } from 'node:fs'
import { TOKEN_RECHECK_MS } from './constants.js'
import { CredentialsFileError, InvalidEndpointError } from './errors.js'

/** A parsed central endpoint. */
export interface CentralEndpoint {
  /** As configured, for status and logs. */
  readonly url: string
  /** `host:port` for grpc-js. */
  readonly target: string
  readonly tls: boolean
}

/**
 * Parses `grpc://host:port` or `grpcs://host:port` (IPv6 hosts in brackets).
 * Throws {@link InvalidEndpointError} naming the value otherwise.
 */
export function parseEndpoint (url: string): CentralEndpoint {
  const match = /^(grpcs?):\/\/(\[[0-9a-fA-F:.]+\]|[^/:[\]\s]+):(\d{1,5})\/?$/.exec(url)
  if (match === null || Number(match[3]) > 65535 || Number(match[3]) === 0) {
    throw new InvalidEndpointError(`remote.endpoint ${JSON.stringify(url)} is not grpc://HOST:PORT or grpcs://HOST:PORT`)
  }
  return { url, target: `${match[2]!}:${match[3]!}`, tls: match[1] === 'grpcs' }
}

/** TLS material for a `grpcs://` central. */
export interface TlsFiles {
  /** PEM CA bundle; empty means the system roots. */
  ca: string
  /** PEM client certificate for mTLS; empty means none. */
  cert: string
  /** PEM client key for mTLS; empty means none. */
  key: string
}

/** Channel credentials for the endpoint: insecure for grpc://, TLS (optionally mutual) for grpcs://. */
export function channelCredentials (endpoint: CentralEndpoint, files: TlsFiles): grpc.ChannelCredentials {
  if (!endpoint.tls) {
    if (files.ca !== '' || files.cert !== '' || files.key !== '') {
      throw new InvalidEndpointError(`remote TLS files are set but remote.endpoint ${endpoint.url} is not grpcs://`)
    }
    return grpc.credentials.createInsecure()
  }
  if ((files.cert === '') !== (files.key === '')) {
    throw new InvalidEndpointError('remote.tlsCert and remote.tlsKey must be given together for mutual TLS')
  }
  const ca = files.ca !== '' ? readPem(files.ca, 'remote.tlsCa') : null
  const key = files.key !== '' ? readPem(files.key, 'remote.tlsKey') : null
  const cert = files.cert !== '' ? readPem(files.cert, 'remote.tlsCert') : null
  return grpc.credentials.createSsl(ca, key, cert)
}

function readPem (path: string, key: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new CredentialsFileError(`cannot read ${key} ${path}: ${(error as Error).message}`, { cause: error })
  }
}

/** Supplies the bearer token, re-reading the file when it changes. */
export interface TokenSource {
  /** The current token, or `undefined` when none is configured. */
  token(): string | undefined
  /** Forces a re-read on next use (after the central refused the token). */
  invalidate(): void
}

/**
 * A token read from `path` (whitespace trimmed), re-read when the file's mtime or size changes
 * (checked at most every {@link TOKEN_RECHECK_MS}). An empty path means no token.
 */
export function createTokenSource (path: string): TokenSource {
  if (path === '') return { token: () => undefined, invalidate: () => {} }
  let stamp = ''
  let value: string | undefined
  let checkedAt = -Infinity
  const load = (): void => {
    try {
      const st = statSync(path)
      const next = `${st.mtimeMs}/${st.size}/${st.ino}`
      if (next === stamp && value !== undefined) return
      value = readFileSync(path, 'utf8').trim()
      stamp = next
    } catch (error) {
      throw new CredentialsFileError(`cannot read remote.tokenFile ${path}: ${(error as Error).message}`, { cause: error })
    }
  }
  load()
  return {
    token () {
      const now = Date.now()
      if (now - checkedAt >= TOKEN_RECHECK_MS) {
        checkedAt = now
        try { load() } catch { /* keep the last good token; the central will say if it is wrong */ }
      }
      return value
    },
    invalidate () { checkedAt = -Infinity; stamp = '' }
  }
}

/** Call metadata carrying the bearer token, if any. */
export function authMetadata (tokens: TokenSource): grpc.Metadata {
  const metadata = new grpc.Metadata()
  const token = tokens.token()
  if (token !== undefined && token !== '') metadata.set('authorization', `Bearer ${token}`)
  return metadata
}

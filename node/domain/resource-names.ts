import { randomUUID } from 'node:crypto'
import { validateDigest, type Digest } from '../store/digest.js'
import { InvalidDigestError } from '../store/errors.js'
import { InvalidRequestError, NotSupportedError } from './errors.js'

/** Path segments REAPI reserves; an instance name may not contain them. */
const RESERVED_SEGMENTS = new Set(['blobs', 'uploads', 'actions', 'actionResults', 'operations', 'capabilities', 'compressed-blobs'])

/**
 * Checks an instance name: `/`-separated segments, none empty, `.`, `..` or reserved, no control
 * characters. Returns it unchanged. The empty name is the default instance.
 */
export function validateInstanceName (name: string | undefined): string {
  const value = name ?? ''
  if (value === '') return ''
  if (value.length > 1024) throw new InvalidRequestError(`instance name is ${value.length} characters long; the limit is 1024`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidRequestError(`instance name ${JSON.stringify(value)} contains control characters`)
  for (const segment of value.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') throw new InvalidRequestError(`instance name ${JSON.stringify(value)} has an empty, "." or ".." segment`)
    if (RESERVED_SEGMENTS.has(segment)) throw new InvalidRequestError(`instance name ${JSON.stringify(value)} contains the reserved segment "${segment}"`)
  }
  return value
}

/** Accepts an unset digest function or SHA256; anything else is refused with a clear message. */
export function checkDigestFunction (digestFunction: string | undefined | null): void {
  if (digestFunction == null || digestFunction === '' || digestFunction === 'UNKNOWN' || digestFunction === 'SHA256') return
  throw new InvalidRequestError(`digest function ${digestFunction} is not supported; this cache uses SHA256`)
}

/** Validates a `Digest` message field; `what` names the field in the error. */
export function digestFromMessage (message: { hash?: string, sizeBytes?: number | string | null } | null | undefined, what: string): Digest {
  if (message == null) throw new InvalidDigestError(`${what} is missing`)
  return validateDigest(message.hash, message.sizeBytes, what)
}

/** Lower-case digest function names REAPI puts after `blobs/` for non-SHA256 blobs. */
const OTHER_DIGEST_FUNCTIONS = new Set(['sha1', 'md5', 'vso', 'sha384', 'sha512', 'murmur3', 'sha256tree', 'blake3', 'gitsha1'])

/**
 * A parsed ByteStream read resource name: `{instance}/blobs/{hash}/{size}`, or
 * `{instance}/compressed-blobs/zstd/{hash}/{size}` (hash and size of the uncompressed blob).
 */
export interface ReadResource {
  instanceName: string
  digest: Digest
  /** Set for `compressed-blobs/{compressor}/…`: the bytes travel compressed. */
  compressor?: 'zstd'
}

/** A parsed ByteStream write resource name: `{instance}/uploads/{uuid}/blobs/{hash}/{size}[/{metadata}]`. */
export interface WriteResource extends ReadResource {
  uploadId: string
}

/** Parses a ByteStream.Read resource name. */
export function parseReadResourceName (name: string): ReadResource {
  const segments = splitResourceName(name)
  const at = segments.findIndex((s) => s === 'blobs' || s === 'compressed-blobs')
  if (at < 0) throw new InvalidRequestError(`resource name ${quote(name)} is not {instance}/blobs/{hash}/{size}`)
  const instanceName = validateInstanceName(segments.slice(0, at).join('/'))
  const compressor = compressorAt(segments, at, name)
  const digest = digestAfter(segments, compressor === undefined ? at : at + 1, name)
  if (segments.length !== at + (compressor === undefined ? 3 : 4)) throw new InvalidRequestError(`resource name ${quote(name)} has unexpected segments after the size`)
  return compressor === undefined ? { instanceName, digest } : { instanceName, digest, compressor }
}

/** Parses a ByteStream.Write resource name. */
export function parseWriteResourceName (name: string): WriteResource {
  const segments = splitResourceName(name)
  const at = segments.indexOf('uploads')
  if (at < 0 || (segments[at + 2] !== 'blobs' && segments[at + 2] !== 'compressed-blobs')) {
    throw new InvalidRequestError(`resource name ${quote(name)} is not {instance}/uploads/{uuid}/blobs/{hash}/{size}`)
  }
  const instanceName = validateInstanceName(segments.slice(0, at).join('/'))
  const uploadId = segments[at + 1]!
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(uploadId) || uploadId === '.' || uploadId === '..') {
    throw new InvalidRequestError(`resource name ${quote(name)}: upload id ${quote(uploadId)} is not a UUID-like token`)
  }
  const compressor = compressorAt(segments, at + 2, name)
  const digest = digestAfter(segments, compressor === undefined ? at + 2 : at + 3, name)
  // Anything after the size is optional metadata, which we ignore.
  return compressor === undefined ? { instanceName, uploadId, digest } : { instanceName, uploadId, digest, compressor }
}

/** The compressor after `compressed-blobs/` (only zstd is served), or undefined for `blobs/`. */
function compressorAt (segments: string[], at: number, name: string): 'zstd' | undefined {
  if (segments[at] !== 'compressed-blobs') return undefined
  const compressor = segments[at + 1]
  if (compressor !== 'zstd') throw new NotSupportedError(`resource name ${quote(name)}: compressor ${quote(compressor ?? '')} is not supported; this cache serves compressed-blobs/zstd only`)
  return compressor
}

function digestAfter (segments: string[], at: number, name: string): Digest {
  const hash = segments[at + 1]
  const size = segments[at + 2]
  if (hash === undefined || size === undefined) throw new InvalidRequestError(`resource name ${quote(name)} lacks a hash and size`)
  if (OTHER_DIGEST_FUNCTIONS.has(hash)) {
    throw new InvalidRequestError(`resource name ${quote(name)}: digest function "${hash}" is not supported; this cache uses SHA256`)
  }
  if (!/^(0|[1-9][0-9]{0,15})$/.test(size)) throw new InvalidDigestError(`resource name ${quote(name)}: size ${quote(size)} is not a non-negative decimal integer`)
  return validateDigest(hash, Number(size), `resource name ${quote(name)}`)
}

function splitResourceName (name: string): string[] {
  if (typeof name !== 'string' || name === '') throw new InvalidRequestError('resource name is empty')
  if (name.length > 2048) throw new InvalidRequestError(`resource name is ${name.length} characters long; the limit is 2048`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(name)) throw new InvalidRequestError(`resource name ${quote(name)} contains control characters or backslashes`)
  const segments = name.split('/')
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new InvalidRequestError(`resource name ${quote(name)} has an empty, "." or ".." segment`)
  }
  return segments
}

function quote (text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 197)}...` : text)
}

/** Resource name for a ByteStream upload of `digest` (a fresh upload id each call). */
export function uploadResourceName (digest: Digest, instanceName = ''): string {
  const path = `uploads/${randomUUID()}/blobs/${digest.hash}/${digest.sizeBytes}`
  return instanceName === '' ? path : `${instanceName}/${path}`
}

/** Resource name for a ByteStream read of `digest`. */
export function readResourceName (digest: Digest, instanceName = ''): string {
  const path = `blobs/${digest.hash}/${digest.sizeBytes}`
  return instanceName === '' ? path : `${instanceName}/${path}`
}

import { createHash } from 'node:crypto'
import type { Digest } from '../store/digest.js'
import { InvalidRequestError } from './errors.js'
import { PeercasError, Status } from './status.js'
import { nameValueMessages } from './messages.js'
import { digestFromMessage } from './resource-names.js'

/**
 * Qualifiers this node understands (the Remote Asset API says a server without the content
 * pushed must refuse the others). `checksum.sri` is verified; `bazel.canonical_id` (Bazel's
 * `canonical_id` attribute) only tells content apart, so it is part of the name and nothing more.
 * Bazel 4.2.3 sends exactly these two; BuildStream 1.6.8 sends none.
 */
export const SUPPORTED_QUALIFIERS: readonly string[] = ['checksum.sri', 'bazel.canonical_id']

/** Longest URI accepted. */
export const MAX_URI_LENGTH = 8192

/** Most URIs (mirrors) in one request, and most qualifiers. */
export const MAX_URIS = 64
export const MAX_QUALIFIERS = 16

/** Longest qualifier value. */
export const MAX_QUALIFIER_VALUE_LENGTH = 4096

/** A qualifier of a Remote Asset request. */
export interface Qualifier {
  readonly name: string
  readonly value: string
}

/** One expected hash of a `checksum.sri` qualifier (Subresource Integrity: `sha256-<base64>`). */
export interface SriHash {
  readonly algorithm: 'sha256' | 'sha384' | 'sha512'
  /** The expected digest bytes. */
  readonly digest: Buffer
}

/** A validated asset request: its URIs in request order and its qualifiers sorted by name. */
export interface AssetRequest {
  readonly uris: readonly string[]
  readonly qualifiers: readonly Qualifier[]
  /** The hashes of `checksum.sri`, if given. */
  readonly sri: readonly SriHash[] | undefined
}

/** A qualifier the node does not understand (INVALID_ARGUMENT, as the Remote Asset API asks). */
export class UnsupportedQualifierError extends InvalidRequestError {
  override name = 'UnsupportedQualifierError'
}

/** A URI that is empty, too long or not a URI at all. */
export class InvalidUriError extends InvalidRequestError {
  override name = 'InvalidUriError'
}

const SRI_LENGTHS = { sha256: 32, sha384: 48, sha512: 64 } as const

/**
 * Checks the URIs and qualifiers of a Fetch or Push request: at least one URI, each an absolute
 * URI (`scheme:…`) without whitespace or control characters; qualifier names unique and
 * supported; `checksum.sri` well formed. Throws an InvalidRequestError naming the bad field.
 */
export function validateAssetRequest (uris: readonly unknown[] | undefined, qualifiers: ReadonlyArray<{ name?: unknown, value?: unknown }> | undefined): AssetRequest {
  const list = uris ?? []
  if (list.length === 0) throw new InvalidUriError('uris is empty: at least one URI is required')
  if (list.length > MAX_URIS) throw new InvalidUriError(`${list.length} URIs in one request; the limit is ${MAX_URIS}`)
  const checkedUris = list.map((uri, i) => validateUri(uri, `uris[${i}]`))
  const given = qualifiers ?? []
  if (given.length > MAX_QUALIFIERS) throw new InvalidRequestError(`${given.length} qualifiers in one request; the limit is ${MAX_QUALIFIERS}`)
  const seen = new Set<string>()
  const checked: Qualifier[] = []
  for (const [i, q] of given.entries()) {
    const name = typeof q.name === 'string' ? q.name : ''
    const value = typeof q.value === 'string' ? q.value : ''
    if (!SUPPORTED_QUALIFIERS.includes(name)) {
      throw new UnsupportedQualifierError(`qualifiers[${i}]: qualifier ${JSON.stringify(name)} not supported (this node understands ${SUPPORTED_QUALIFIERS.join(', ')})`)
    }
    if (seen.has(name)) throw new InvalidRequestError(`qualifiers[${i}]: qualifier ${JSON.stringify(name)} is given twice; names must be unique`)
    if (value.length > MAX_QUALIFIER_VALUE_LENGTH) throw new InvalidRequestError(`qualifiers[${i}]: value of ${name} is ${value.length} characters long; the limit is ${MAX_QUALIFIER_VALUE_LENGTH}`)
    seen.add(name)
    checked.push({ name, value })
  }
  checked.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const sriValue = checked.find((q) => q.name === 'checksum.sri')?.value
  return { uris: checkedUris, qualifiers: checked, sri: sriValue === undefined ? undefined : parseSri(sriValue) }
}

/** Checks one URI (see {@link validateAssetRequest}); `what` names the field in the error. */
export function validateUri (uri: unknown, what: string): string {
  if (typeof uri !== 'string' || uri === '') throw new InvalidUriError(`${what} is empty`)
  if (uri.length > MAX_URI_LENGTH) throw new InvalidUriError(`${what} is ${uri.length} characters long; the limit is ${MAX_URI_LENGTH}`)
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(uri)) throw new InvalidUriError(`${what} ${JSON.stringify(uri)} contains whitespace or control characters`)
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:./.test(uri)) throw new InvalidUriError(`${what} ${JSON.stringify(uri)} is not an absolute URI (scheme:…)`)
  if (/^https?:/i.test(uri)) {
    let parsed: URL
    try {
      parsed = new URL(uri)
    } catch (error) {
      throw new InvalidUriError(`${what} ${JSON.stringify(uri)} is not a valid URL`, { cause: error })
    }
    if (parsed.hostname === '') throw new InvalidUriError(`${what} ${JSON.stringify(uri)} has no host`)
  }
  return uri
}

/**
 * Parses a Subresource Integrity value: one or more `sha256-`, `sha384-` or `sha512-` base64
 * hashes separated by spaces (options after `?` are ignored, as the SRI spec says).
 */
export function parseSri (value: string): SriHash[] {
  const tokens = value.trim().split(/\s+/).filter((t) => t !== '')
  if (tokens.length === 0) throw new InvalidRequestError('checksum.sri is empty')
  return tokens.map((token) => {
    const match = /^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})(\?.*)?$/.exec(token)
    if (match === null) throw new InvalidRequestError(`checksum.sri ${JSON.stringify(token)} is not sha256-, sha384- or sha512- followed by base64`)
    const algorithm = match[1] as SriHash['algorithm']
    const digest = Buffer.from(match[2]!, 'base64')
    if (digest.byteLength !== SRI_LENGTHS[algorithm]) throw new InvalidRequestError(`checksum.sri ${JSON.stringify(token)}: a ${algorithm} hash is ${SRI_LENGTHS[algorithm]} bytes, this one ${digest.byteLength}`)
    return { algorithm, digest }
  })
}

/** `sha256-<base64>` of a hash, as in a `checksum.sri` qualifier. */
export function formatSri (hash: SriHash): string {
  return `${hash.algorithm}-${hash.digest.toString('base64')}`
}

/**
 * The SHA-256 hex a blob must have when the SRI says so, or `undefined` when it names other
 * algorithms only. Lets a mapping be checked against its own qualifiers without reading the blob.
 */
export function sha256HexOf (sri: readonly SriHash[]): string | undefined {
  return sri.find((h) => h.algorithm === 'sha256')?.digest.toString('hex')
}

/**
 * The key under which one URI with its qualifiers is stored: SHA-256 (hex) of a canonical,
 * unambiguous encoding (JSON of the URI and the qualifiers sorted by name). Any one of a
 * request's URIs finds content pushed or fetched under it, as the Remote Asset API asks.
 */
export function assetKey (uri: string, qualifiers: readonly Qualifier[]): string {
  const sorted = [...qualifiers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const canonical = JSON.stringify([uri, sorted.map((q) => [q.name, q.value])])
  return createHash('sha256').update(canonical).digest('hex')
}

/** True if `key` could be an {@link assetKey}. */
export function isAssetKey (key: string): boolean {
  return /^[0-9a-f]{64}$/.test(key)
}

/** What an asset mapping points at: one blob (FetchBlob) or a directory tree (FetchDirectory). */
export type AssetTarget = { blob: Digest } | { directory: Digest }

/** The decoded value of an `asset` named result. */
export interface AssetMapping {
  readonly uri: string
  readonly qualifiers: readonly Qualifier[]
  readonly target: AssetTarget
  /** Epoch ms after which the mapping is not served; 0: never. */
  readonly expireAtMs: number
  /** Epoch ms when the content was fetched or pushed. */
  readonly createdAtMs: number
  /**
   * True when a `checksum.sri` qualifier pins the blob's SHA-256: anyone can check the mapping
   * against its own qualifiers (and the blob against its digest), so it needs no trust in
   * whoever supplied it. Recomputed on decode; an SRI naming only sha384/sha512 is verified when
   * the node downloads the content itself, but a copy from another tier is a trusted mapping.
   */
  readonly selfVerifying: boolean
}

/** Bytes that are not an asset mapping, or one whose fields contradict each other. */
export class InvalidAssetMappingError extends InvalidRequestError {
  override name = 'InvalidAssetMappingError'
}

/** Encodes a mapping as stored in the name index (`peercas.names.v1.AssetMapping`). */
export function encodeAssetMapping (mapping: AssetMapping): Buffer {
  return nameValueMessages.AssetMapping.serialize({
    uri: mapping.uri,
    qualifiers: [...mapping.qualifiers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    blobDigest: 'blob' in mapping.target ? mapping.target.blob : null,
    rootDirectoryDigest: 'directory' in mapping.target ? mapping.target.directory : null,
    expireAtMs: mapping.expireAtMs,
    createdAtMs: mapping.createdAtMs,
    selfVerifying: mapping.selfVerifying
  })
}

/**
 * Decodes and checks a stored or received mapping: a valid URI and qualifiers, exactly one
 * target, and — when `checksum.sri` names a SHA-256 — a blob digest that matches it. Throws
 * {@link InvalidAssetMappingError}.
 */
export function decodeAssetMapping (bytes: Buffer): AssetMapping {
  let message: ReturnType<typeof nameValueMessages.AssetMapping.deserialize>
  try {
    message = nameValueMessages.AssetMapping.deserialize(bytes)
  } catch (error) {
    throw new InvalidAssetMappingError('value is not an AssetMapping message', { cause: error })
  }
  let request: AssetRequest
  try {
    request = validateAssetRequest([message.uri], message.qualifiers)
  } catch (error) {
    throw new InvalidAssetMappingError(`asset mapping: ${(error as Error).message}`, { cause: error })
  }
  const hasBlob = message.blobDigest != null
  if (hasBlob === (message.rootDirectoryDigest != null)) throw new InvalidAssetMappingError('asset mapping must name exactly one of blob_digest and root_directory_digest')
  const target: AssetTarget = hasBlob
    ? { blob: digestFromMessage(message.blobDigest, 'asset mapping blob_digest') }
    : { directory: digestFromMessage(message.rootDirectoryDigest, 'asset mapping root_directory_digest') }
  const pinned = request.sri === undefined ? undefined : sha256HexOf(request.sri)
  if (pinned !== undefined && 'blob' in target && target.blob.hash !== pinned) {
    throw new InvalidAssetMappingError(`asset mapping of ${request.uris[0]} names blob ${target.blob.hash}, but its checksum.sri says ${pinned}`)
  }
  return {
    uri: request.uris[0]!,
    qualifiers: request.qualifiers,
    target,
    expireAtMs: Number(message.expireAtMs),
    createdAtMs: Number(message.createdAtMs),
    // Computed, not taken from the bytes: only a SHA-256 pin can be checked without the blob.
    selfVerifying: pinned !== undefined && 'blob' in target
  }
}

/** True if `mapping` was stored for exactly this URI and these qualifiers. */
export function mappingMatches (mapping: AssetMapping, uri: string, qualifiers: readonly Qualifier[]): boolean {
  return assetKey(mapping.uri, mapping.qualifiers) === assetKey(uri, qualifiers)
}

/**
 * The URN BuildStream 1.6.8 names an artifact ref with when the server offers the Remote Asset
 * API (`urn:fdc:buildstream.build:2020:v1:<ref>`); such requests are answered from refs, so one
 * artifact is the same whichever of its two APIs a client speaks.
 */
export const BUILDSTREAM_REF_URN_PREFIX = 'urn:fdc:buildstream.build:2020:v1:'

/** The BuildStream ref a request names (one URI with the ref URN prefix, no qualifiers), or `undefined`. */
export function buildStreamRefOf (request: AssetRequest): string | undefined {
  if (request.uris.length !== 1 || request.qualifiers.length !== 0) return undefined
  const uri = request.uris[0]!
  return uri.startsWith(BUILDSTREAM_REF_URN_PREFIX) ? uri.slice(BUILDSTREAM_REF_URN_PREFIX.length) : undefined
}

/** Content a Push names that no tier holds (the Remote Asset API: push the content to the CAS first). */
export class ContentNotInCasError extends PeercasError {
  override name = 'ContentNotInCasError'
  readonly status = Status.FAILED_PRECONDITION
}

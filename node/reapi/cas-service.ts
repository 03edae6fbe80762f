import * as grpc from '@grpc/grpc-js'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { ContentAddressableStorageHandlers } from '../generated/build/bazel/remote/execution/v2/ContentAddressableStorage.js'
import type { Directory__Output } from '../generated/build/bazel/remote/execution/v2/Directory.js'
import type { Digest } from '../store/digest.js'
import type { BlobSink } from '../store/index.js'
import type { TieredResolver } from '../resolve/tiered-resolver.js'
import { BATCH_READ_ENTRY_OVERHEAD_BYTES, BATCH_READ_SLICE, BATCH_READ_SLICE_MS, BATCH_STATUS_MESSAGE_BYTES, DEFAULT_TREE_PAGE_SIZE, MAX_GRPC_MESSAGE_BYTES } from './constants.js'
import { MAX_BATCH_TOTAL_SIZE_BYTES, MAX_TREE_BLOB_BYTES } from '../domain/constants.js'
import { batchStatusOf, toRpcError } from './errors.js'
import { InvalidRequestError, NotFoundError, NotSupportedError } from '../domain/errors.js'
import { answerUnary, watchCancellation, writeWithBackpressure } from './call-writes.js'
import { checkDigestFunction, digestFromMessage, validateInstanceName } from '../domain/resource-names.js'
import { reapiMessages } from '../domain/messages.js'
import { reapi } from './protos.js'

/** What the CAS service needs. */
export interface CasServiceDeps {
  store: BlobSink
  resolver: TieredResolver
  /** Called after blobs are stored by a client (the write-behind queue and peer announcements hook here). */
  onBlobsWritten?: (digests: Digest[]) => Promise<void> | void
}

const OK = { code: grpc.status.OK, message: '' }
const NO_BYTES = Buffer.alloc(0)

/** ContentAddressableStorage: FindMissingBlobs, BatchUpdateBlobs, BatchReadBlobs, GetTree. */
export function createCasService (deps: CasServiceDeps): ContentAddressableStorageHandlers {
  const { store, resolver } = deps
  return {
    FindMissingBlobs (call, callback) {
      answerUnary(call, callback, async (signal) => {
        validateInstanceName(call.request.instanceName)
        checkDigestFunction(call.request.digestFunction)
        const digests = call.request.blobDigests.map((d, i) => digestFromMessage(d, `blob_digests[${i}]`))
        const missing = await resolver.findMissing(digests, signal)
        return { missingBlobDigests: missing.map(toMessage) }
      })
    },

    BatchUpdateBlobs (call, callback) {
      answerUnary(call, callback, async (signal) => {
        validateInstanceName(call.request.instanceName)
        checkDigestFunction(call.request.digestFunction)
        const total = call.request.requests.reduce((sum, r) => sum + r.data.byteLength, 0)
        if (total > MAX_BATCH_TOTAL_SIZE_BYTES) {
          throw new InvalidRequestError(`BatchUpdateBlobs carries ${total} bytes; the limit is max_batch_total_size_bytes = ${MAX_BATCH_TOTAL_SIZE_BYTES}`)
        }
        // Validate each entry, then store the valid ones together: one index batch for the
        // small blobs instead of one each.
        const statuses: Array<{ code: number, message: string } | undefined> = new Array(call.request.requests.length)
        const valid: Array<{ digest: Digest, data: Buffer, slot: number }> = []
        call.request.requests.forEach((entry, i) => {
          try {
            if (entry.compressor !== 'IDENTITY' && entry.compressor !== undefined) {
              throw new InvalidRequestError(`requests[${i}]: compressor ${entry.compressor} is not supported; send uncompressed data`)
            }
            valid.push({ digest: digestFromMessage(entry.digest, `requests[${i}].digest`), data: entry.data, slot: i })
          } catch (error) {
            statuses[i] = batchStatusOf(error)
          }
        })
        const outcomes = valid.length > 0 ? await store.putMany(valid) : []
        const written: Digest[] = []
        valid.forEach(({ digest, slot }, j) => {
          const error = outcomes[j]
          if (error === undefined) { written.push(digest); statuses[slot] = OK } else statuses[slot] = batchStatusOf(error)
        })
        const responses = call.request.requests.map((entry, i) => ({ digest: entry.digest ?? { hash: '', sizeBytes: 0 }, status: statuses[i]! }))
        if (written.length > 0) await deps.onBlobsWritten?.(written)
        return { responses }
      })
    },

    BatchReadBlobs (call, callback) {
      answerUnary(call, callback, async (signal) => {
        validateInstanceName(call.request.instanceName)
        checkDigestFunction(call.request.digestFunction)
        // The answer carries a digest and a status per entry besides the bytes: a request whose
        // answer could not be sent is refused before any work for it (60k tiny digests fit the
        // 4 MiB of blob bytes but not the 5 MiB message).
        const count = call.request.digests.length
        if (count * BATCH_READ_ENTRY_OVERHEAD_BYTES > MAX_GRPC_MESSAGE_BYTES) {
          throw new InvalidRequestError(`BatchReadBlobs asks for ${count} digests; an answer has room for at most ${Math.floor(MAX_GRPC_MESSAGE_BYTES / BATCH_READ_ENTRY_OVERHEAD_BYTES)}; ask for fewer per call`)
        }
                const digests = await mapInSlices(call.request.digests, signal, (d, i) => digestFromMessage(d, `digests[${i}]`))
        const total = digests.reduce((sum, d) => sum + d.sizeBytes, 0)
        if (total > MAX_BATCH_TOTAL_SIZE_BYTES) {
          throw new InvalidRequestError(`BatchReadBlobs asks for ${total} bytes; the limit is max_batch_total_size_bytes = ${MAX_BATCH_TOTAL_SIZE_BYTES}; use ByteStream.Read for large blobs`)
        }
        const answerBound = total + count * BATCH_READ_ENTRY_OVERHEAD_BYTES
        if (answerBound > MAX_GRPC_MESSAGE_BYTES) {
          throw new InvalidRequestError(`BatchReadBlobs asks for ${count} digests of ${total} bytes; the answer could take ${answerBound} bytes, over the ${MAX_GRPC_MESSAGE_BYTES}-byte message limit; ask for fewer digests per call`)
        }
        // A slice at a time: bounds the promises and abort listeners one call holds and the
        // index reads it queues ahead of other clients, and lets them in between slices.
        const responses: BatchReadEntry[] = []
        for (let at = 0; at < digests.length; at += BATCH_READ_SLICE) {
          if (at > 0) {
            await nextTurn()
            signal.throwIfAborted()
          }
          const slice = digests.slice(at, at + BATCH_READ_SLICE)
          const outcomes = await resolver.readMany(slice, signal)
          signal.throwIfAborted()
          slice.forEach((digest, i) => {
            const outcome = outcomes[i]!
            let entry: BatchReadEntry
            if (outcome.status === 'rejected') {
              entry = { digest: toMessage(digest), data: NO_BYTES, compressor: 'IDENTITY', status: shortStatus(batchStatusOf(outcome.reason)) }
            } else if (outcome.value === undefined) {
              // A miss is common (a client probing): a status, not an exception with a stack.
              entry = { digest: toMessage(digest), data: NO_BYTES, compressor: 'IDENTITY', status: { code: grpc.status.NOT_FOUND, message: `blob ${digest.hash}/${digest.sizeBytes} is not in the cache` } }
            } else {
              entry = { digest: toMessage(digest), data: outcome.value, compressor: 'IDENTITY', status: OK }
            }
            responses.push(entry)
          })
        }
        // Already encoded: the service definition passes Buffers through.
        return await encodeBatchReadResponse(responses, signal) as never
      })
    },

    GetTree (call) {
      const cancellation = watchCancellation(call)
      void (async () => {
        validateInstanceName(call.request.instanceName)
        checkDigestFunction(call.request.digestFunction)
        const root = digestFromMessage(call.request.rootDigest, 'root_digest')
        const pageSize = call.request.pageSize > 0 ? Math.min(call.request.pageSize, 10_000) : DEFAULT_TREE_PAGE_SIZE
        const token = call.request.pageToken
        if (token !== '' && !/^(0|[1-9][0-9]{0,9})$/.test(token)) throw new InvalidRequestError(`page_token ${JSON.stringify(token)} was not issued by this server`)
        let skip = token === '' ? 0 : Number(token)
        let sent = skip
        let page: Directory__Output[] = []
        let foundRoot = false
        for await (const directory of walkTree(root, resolver, cancellation.signal)) {
          foundRoot = true
          if (skip > 0) { skip--; continue }
          page.push(directory)
          sent++
          if (page.length === pageSize) {
            await writeWithBackpressure(call, { directories: page, nextPageToken: String(sent) })
            page = []
          }
        }
        if (!foundRoot) throw new NotFoundError(`root directory ${root.hash}/${root.sizeBytes} is not in the cache`)
        if (page.length > 0 || sent === 0) call.write({ directories: page, nextPageToken: '' })
        call.end()
      })().catch((error) => { call.emit('error', toRpcError(error)) }).finally(() => { cancellation.release() })
    },

    SplitBlob (_call, callback) {
      callback(toRpcError(new NotSupportedError('SplitBlob is not supported by this cache')))
    },

    SpliceBlob (_call, callback) {
      callback(toRpcError(new NotSupportedError('SpliceBlob is not supported by this cache')))
    }
  }
}

/**
 * Walks a directory tree breadth-first from `root`, yielding each directory once. A missing
 * subdirectory is skipped (REAPI returns what is present); a missing root yields nothing.
 */
export async function * walkTree (root: Digest, resolver: TieredResolver, signal?: AbortSignal): AsyncGenerator<Directory__Output> {
  const seen = new Set<string>([root.hash])
  let level: Digest[] = [root]
  while (level.length > 0) {
    const next: Digest[] = []
    for (const digest of level) {
      if (digest.sizeBytes > MAX_TREE_BLOB_BYTES) {
        throw new InvalidRequestError(`directory ${digest.hash}/${digest.sizeBytes} is larger than ${MAX_TREE_BLOB_BYTES} bytes; refusing to load it as a Directory`)
      }
      const bytes = await resolver.read(digest, signal)
      if (bytes === undefined) continue
      let directory: Directory__Output
      try {
        directory = reapiMessages.Directory.deserialize(bytes)
      } catch (error) {
        throw new InvalidRequestError(`blob ${digest.hash}/${digest.sizeBytes} in the tree is not a Directory message`, { cause: error })
      }
      yield directory
      for (const child of directory.directories) {
        const childDigest = digestFromMessage(child.digest, `directory ${digest.hash}: child ${child.name}`)
        if (!seen.has(childDigest.hash)) {
          seen.add(childDigest.hash)
          next.push(childDigest)
        }
      }
    }
    level = next
  }
}

/**
 * Encodes a BatchReadBlobsResponse a slice of entries at a time, yielding to the event loop
 * between slices (20k entries take ~150 ms to encode in one go). Encodings of a message whose
 * only field is repeated concatenate into the encoding of the whole; the server passes the
 * Buffer through (grpc-server.ts).
 */
async function encodeBatchReadResponse (responses: BatchReadEntry[], signal: AbortSignal): Promise<Buffer> {
  const encode = reapi.ContentAddressableStorage.service.BatchReadBlobs.responseSerialize
  const parts: Buffer[] = []
  let sliceStart = performance.now()
  for (let at = 0; at < responses.length; at += BATCH_ENCODE_SLICE) {
    parts.push(encode({ responses: responses.slice(at, at + BATCH_ENCODE_SLICE) }))
    if (performance.now() - sliceStart >= BATCH_READ_SLICE_MS) {
      await nextTurn()
      signal.throwIfAborted()
      sliceStart = performance.now()
    }
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
}

/** Entries encoded at once by {@link encodeBatchReadResponse} (~7 µs each). */
const BATCH_ENCODE_SLICE = 500

/** One entry of a BatchReadBlobs answer. */
interface BatchReadEntry {
  digest: { hash: string, sizeBytes: number }
  data: Buffer
  compressor: 'IDENTITY'
  status: { code: number, message: string }
}

/** `fn` over every item in order, yielding to the event loop every {@link BATCH_READ_SLICE_MS}. */
async function mapInSlices<T, R> (items: readonly T[], signal: AbortSignal, fn: (item: T, index: number) => R): Promise<R[]> {
  const results = new Array<R>(items.length)
  let sliceStart = performance.now()
  for (let i = 0; i < items.length; i++) {
    results[i] = fn(items[i]!, i)
    if ((i & 255) === 255 && performance.now() - sliceStart >= BATCH_READ_SLICE_MS) {
      await nextTurn()
      signal.throwIfAborted()
      sliceStart = performance.now()
    }
  }
  return results
}

/** A batch entry's status with its message cut to {@link BATCH_STATUS_MESSAGE_BYTES} (the answer size is bounded per entry). */
function shortStatus (s: { code: number, message: string }): { code: number, message: string } {
  if (Buffer.byteLength(s.message) <= BATCH_STATUS_MESSAGE_BYTES) return s
  let message = s.message.slice(0, BATCH_STATUS_MESSAGE_BYTES - 1)
  while (Buffer.byteLength(message) > BATCH_STATUS_MESSAGE_BYTES - 3) message = message.slice(0, -1)
  return { code: s.code, message: message + '…' }
}

/** Converts a digest to its protobuf message shape. */
export function toMessage (digest: Digest): { hash: string, sizeBytes: number } {
  return { hash: digest.hash, sizeBytes: digest.sizeBytes }
}

import * as grpc from '@grpc/grpc-js'
import type { ContentAddressableStorageHandlers } from '../generated/build/bazel/remote/execution/v2/ContentAddressableStorage.js'
import type { Directory__Output } from '../generated/build/bazel/remote/execution/v2/Directory.js'
import type { Digest } from '../store/digest.js'
import type { BlobSink } from '../store/index.js'
import type { TieredResolver } from '../resolve/tiered-resolver.js'
import { DEFAULT_TREE_PAGE_SIZE } from './constants.js'
import { MAX_BATCH_TOTAL_SIZE_BYTES, MAX_TREE_BLOB_BYTES } from '../domain/constants.js'
import { batchStatusOf, toRpcError } from './errors.js'
import { InvalidRequestError, NotFoundError, NotSupportedError } from '../domain/errors.js'
import { signalOf, writeWithBackpressure } from './call-writes.js'
import { checkDigestFunction, digestFromMessage, validateInstanceName } from '../domain/resource-names.js'
import { reapiMessages } from '../domain/messages.js'

/** What the CAS service needs. */
export interface CasServiceDeps {
  store: BlobSink
  resolver: TieredResolver
  /** Called after blobs are stored by a client (the write-behind queue and peer announcements hook here). */
  onBlobsWritten?: (digests: Digest[]) => Promise<void> | void
}

const OK = { code: grpc.status.OK, message: '' }

/** ContentAddressableStorage: FindMissingBlobs, BatchUpdateBlobs, BatchReadBlobs, GetTree. */
export function createCasService (deps: CasServiceDeps): ContentAddressableStorageHandlers {
  const { store, resolver } = deps
  return {
    FindMissingBlobs (call, callback) {
      void (async () => {
        validateInstanceName(call.request.instanceName)
        checkDigestFunction(call.request.digestFunction)
        const digests = call.request.blobDigests.map((d, i) => digestFromMessage(d, `blob_digests[${i}]`))
        const missing = await resolver.findMissing(digests, signalOf(call))
        return { missingBlobDigests: missing.map(toMessage) }
      })().then((r) => { callback(null, r) }, (e) => { callback(toRpcError(e)) })
    },

    BatchUpdateBlobs (call, callback) {
      void (async () => {
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
      })().then((r) => { callback(null, r) }, (e) => { callback(toRpcError(e)) })
    },

    BatchReadBlobs (call, callback) {
      void (async () => {
        validateInstanceName(call.request.instanceName)
        checkDigestFunction(call.request.digestFunction)
        const digests = call.request.digests.map((d, i) => digestFromMessage(d, `digests[${i}]`))
        const total = digests.reduce((sum, d) => sum + d.sizeBytes, 0)
        if (total > MAX_BATCH_TOTAL_SIZE_BYTES) {
          throw new InvalidRequestError(`BatchReadBlobs asks for ${total} bytes; the limit is max_batch_total_size_bytes = ${MAX_BATCH_TOTAL_SIZE_BYTES}; use ByteStream.Read for large blobs`)
        }
        const signal = signalOf(call)
        const responses = await Promise.all(digests.map(async (digest) => {
          try {
            const data = await resolver.read(digest, signal)
            if (data === undefined) throw new NotFoundError(`blob ${digest.hash}/${digest.sizeBytes} is not in the cache`)
            return { digest: toMessage(digest), data, compressor: 'IDENTITY' as const, status: OK }
          } catch (error) {
            return { digest: toMessage(digest), data: Buffer.alloc(0), compressor: 'IDENTITY' as const, status: batchStatusOf(error) }
          }
        }))
        return { responses }
      })().then((r) => { callback(null, r) }, (e) => { callback(toRpcError(e)) })
    },

    GetTree (call) {
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
        const signal = signalOf(call)
        for await (const directory of walkTree(root, resolver, signal)) {
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
      })().catch((error) => { call.emit('error', toRpcError(error)) })
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

/** Converts a digest to its protobuf message shape. */
export function toMessage (digest: Digest): { hash: string, sizeBytes: number } {
  return { hash: digest.hash, sizeBytes: digest.sizeBytes }
}

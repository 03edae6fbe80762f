// The transport baseline: a bare grpc-js server in its own process. ByteStream Write discards the
// bytes; Read streams bytes from memory. With `rpc` seeds it also answers the hot small RPCs
// (GetActionResult, FindMissingBlobs, BatchReadBlobs, GetCapabilities) from maps in memory.
// No store, no hashing, no interceptors: whatever peercas does beyond this is what the ratios measure.
import * as grpc from '@grpc/grpc-js'
import { once } from 'node:events'
import { randomFillSync } from 'node:crypto'
import { bytestream, reapi } from '../../node/reapi/protos.js'
import type { ActionResult } from '../../node/generated/build/bazel/remote/execution/v2/ActionResult.js'
import type { ServerCapabilities } from '../../node/generated/build/bazel/remote/execution/v2/ServerCapabilities.js'
import type { ActionCacheHandlers } from '../../node/generated/build/bazel/remote/execution/v2/ActionCache.js'
import type { ContentAddressableStorageHandlers } from '../../node/generated/build/bazel/remote/execution/v2/ContentAddressableStorage.js'
import type { CapabilitiesHandlers } from '../../node/generated/build/bazel/remote/execution/v2/Capabilities.js'
import { parseReadResourceName } from '../../node/domain/resource-names.js'
import { READ_CHUNK_BYTES } from '../../node/reapi/constants.js'
import type { ByteStreamHandlers } from '../../node/generated/google/bytestream/ByteStream.js'
import type { WriteRequest__Output } from '../../node/generated/google/bytestream/WriteRequest.js'
import { serveWorker } from '../lib/worker.js'

let memory = Buffer.alloc(0)
let server: grpc.Server | undefined

/** What the small-RPC baseline answers from: the same content peercas holds in the rpc case. */
export interface RpcSeeds {
  actionResults: Array<{ hash: string, result: ActionResult }>
  blobs: Array<{ hash: string, data: Buffer }>
  capabilities: ServerCapabilities
}
const actionResults = new Map<string, ActionResult>()
const blobs = new Map<string, Buffer>()
let capabilities: ServerCapabilities = {}

const actionCacheHandlers: ActionCacheHandlers = {
  GetActionResult (call, callback) {
    const result = actionResults.get(call.request.actionDigest?.hash ?? '')
    if (result === undefined) callback({ code: grpc.status.NOT_FOUND, details: 'no such action result' })
    else callback(null, result)
  },
  UpdateActionResult (_call, callback) { callback({ code: grpc.status.UNIMPLEMENTED }) }
}

const casHandlers: ContentAddressableStorageHandlers = {
  FindMissingBlobs (call, callback) {
    callback(null, { missingBlobDigests: call.request.blobDigests.filter((d) => !blobs.has(d.hash)) })
  },
  BatchReadBlobs (call, callback) {
    callback(null, {
      responses: call.request.digests.map((digest) => {
        const data = blobs.get(digest.hash)
        return data === undefined ? { digest, status: { code: grpc.status.NOT_FOUND } } : { digest, data, status: { code: 0 } }
      })
    })
  },
  BatchUpdateBlobs (_call, callback) { callback({ code: grpc.status.UNIMPLEMENTED }) },
  GetTree (call) { call.destroy({ name: 'Unimplemented', message: 'no', code: grpc.status.UNIMPLEMENTED } as unknown as Error) },
  SpliceBlob (_call, callback) { callback({ code: grpc.status.UNIMPLEMENTED }) },
  SplitBlob (_call, callback) { callback({ code: grpc.status.UNIMPLEMENTED }) }
}

const capabilitiesHandlers: CapabilitiesHandlers = {
  GetCapabilities (_call, callback) { callback(null, capabilities) }
}

const handlers: ByteStreamHandlers = {
  Read (call) {
    void (async () => {
      const { digest } = parseReadResourceName(call.request.resourceName)
      const stored = blobs.get(digest.hash)
      if (stored !== undefined) { call.write({ data: stored }); call.end(); return }
      if (memory.byteLength < digest.sizeBytes) {
        memory = Buffer.allocUnsafe(digest.sizeBytes)
        randomFillSync(memory)
      }
      for (let at = 0; at < digest.sizeBytes; at += READ_CHUNK_BYTES) {
        if (!call.write({ data: memory.subarray(at, Math.min(at + READ_CHUNK_BYTES, digest.sizeBytes)) })) await once(call, 'drain')
      }
      call.end()
    })().catch((error: Error) => { call.destroy(error) })
  },
  Write (call, callback) {
    let received = 0
    void (async () => {
      for await (const message of call as AsyncIterable<WriteRequest__Output>) received += message.data.byteLength
      callback(null, { committedSize: received })
    })().catch((error: Error) => { callback({ code: grpc.status.INTERNAL, message: error.message }) })
  },
  QueryWriteStatus (_call, callback) { callback({ code: grpc.status.UNIMPLEMENTED }) }
}

serveWorker({
  async listen ({ socketPath, options, prefill, rpc }: { socketPath: string, options?: grpc.ServerOptions, prefill?: number, rpc?: RpcSeeds }) {
    if (prefill !== undefined) { memory = Buffer.allocUnsafe(prefill); randomFillSync(memory) }
    server = new grpc.Server(options ?? {})
    server.addService(bytestream.ByteStream.service, handlers)
    if (rpc !== undefined) {
      for (const { hash, result } of rpc.actionResults) actionResults.set(hash, result)
      for (const { hash, data } of rpc.blobs) blobs.set(hash, Buffer.from(data))
      capabilities = rpc.capabilities
      server.addService(reapi.ActionCache.service, actionCacheHandlers)
      server.addService(reapi.ContentAddressableStorage.service, casHandlers)
      server.addService(reapi.Capabilities.service, capabilitiesHandlers)
    }
    await new Promise<void>((resolve, reject) => {
      server!.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (error) => { if (error != null) reject(error); else resolve() })
    })
    return { target: `unix:${socketPath}` }
  },
  async close () {
    server?.forceShutdown()
    server = undefined
    return {}
  }
})

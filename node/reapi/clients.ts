import * as grpc from '@grpc/grpc-js'
import { once } from 'node:events'
import type { Readable } from 'node:stream'
import type { ContentAddressableStorageClient } from '../generated/build/bazel/remote/execution/v2/ContentAddressableStorage.js'
import type { ActionCacheClient } from '../generated/build/bazel/remote/execution/v2/ActionCache.js'
import type { CapabilitiesClient } from '../generated/build/bazel/remote/execution/v2/Capabilities.js'
import type { ExecutionClient } from '../generated/build/bazel/remote/execution/v2/Execution.js'
import type { ByteStreamClient } from '../generated/google/bytestream/ByteStream.js'
import type { AdminClient } from '../generated/peercas/admin/v1/Admin.js'
import type { Digest } from '../store/digest.js'
import { MAX_GRPC_MESSAGE_BYTES } from './constants.js'
import { admin, bytestream, reapi } from './protos.js'
import { readResourceName, uploadResourceName } from '../domain/resource-names.js'

/** Typed clients for every service a peercas node (or another REAPI server) offers. */
export interface ReapiClients {
  cas: ContentAddressableStorageClient
  byteStream: ByteStreamClient
  actionCache: ActionCacheClient
  capabilities: CapabilitiesClient
  execution: ExecutionClient
  admin: AdminClient
  /** Closes the shared channel. */
  close(): void
}

/** Channel options matching the server's message limits. */
export const CLIENT_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_GRPC_MESSAGE_BYTES
}

/**
 * Connects to `target` (`unix:/path/cas.sock`, `127.0.0.1:8980`…) with one shared channel.
 */
export function createClients (target: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): ReapiClients {
  const cas = new reapi.ContentAddressableStorage(target, credentials, { ...CLIENT_OPTIONS, ...options })
  const channelOverride = cas.getChannel()
  const shared = { ...CLIENT_OPTIONS, ...options, channelOverride }
  return {
    cas,
    byteStream: new bytestream.ByteStream(target, credentials, shared),
    actionCache: new reapi.ActionCache(target, credentials, shared),
    capabilities: new reapi.Capabilities(target, credentials, shared),
    execution: new reapi.Execution(target, credentials, shared),
    admin: new admin.Admin(target, credentials, shared),
    close () { cas.close() }
  }
}

/**
 * Turns a callback-style unary call into a promise: `await unary(client.FindMissingBlobs.bind(client), request)`.
 * (Typed from the method's `(request, callback)` overload; metadata and options are passed through.)
 */
export async function unary<Req, Res> (
  fn: (req: Req, cb: (error: grpc.ServiceError | null, res?: Res) => void) => unknown,
  request: Req,
  options: grpc.CallOptions = {},
  metadata = new grpc.Metadata()
): Promise<Res> {
  const call = fn as unknown as (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (error: grpc.ServiceError | null, res?: Res) => void) => unknown
  return await new Promise((resolve, reject) => {
    call(request, metadata, options, (error, response) => { if (error != null) reject(error); else resolve(response as Res) })
  })
}

/**
 * Uploads a blob with ByteStream.Write from an async iterable of chunks (a Buffer is one chunk).
 * Resolves with the server's committed_size.
 */
export async function byteStreamUpload (
  client: ByteStreamClient, digest: Digest, source: AsyncIterable<Buffer> | Buffer,
  { instanceName = '', chunkBytes = 1024 * 1024, callOptions = {} as grpc.CallOptions } = {}
): Promise<number> {
  const resourceName = uploadResourceName(digest, instanceName)
  let finished = false
  return await new Promise<number>((resolve, reject) => {
    const call = client.Write(callOptions, (error, response) => {
      finished = true
      if (error != null) reject(error); else resolve(Number(response?.committedSize ?? 0))
    })
    void (async () => {
      let offset = 0
      const chunks: AsyncIterable<Buffer> | Iterable<Buffer> = Buffer.isBuffer(source) ? sliceBuffer(source, chunkBytes) : source
      let first = true
      for await (const chunk of chunks) {
        if (finished) return
        if (!call.write({ resourceName: first ? resourceName : '', writeOffset: offset, data: chunk, finishWrite: false })) await once(call, 'drain')
        first = false
        offset += chunk.byteLength
      }
      if (!finished) call.write({ resourceName: first ? resourceName : '', writeOffset: offset, data: Buffer.alloc(0), finishWrite: true })
      call.end()
    })().catch((error) => { call.cancel(); reject(error) })
  })
}

/** Reads a blob with ByteStream.Read as a stream of chunks. */
export function byteStreamRead (client: ByteStreamClient, digest: Digest, { instanceName = '', offset = 0, limit = 0, callOptions = {} as grpc.CallOptions } = {}): Readable & AsyncIterable<{ data: Buffer }> {
  return client.Read({ resourceName: readResourceName(digest, instanceName), readOffset: offset, readLimit: limit }, callOptions) as unknown as Readable & AsyncIterable<{ data: Buffer }>
}

function * sliceBuffer (data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.byteLength; at += size) yield data.subarray(at, at + size)
}

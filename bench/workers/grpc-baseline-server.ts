// The transport baseline: a bare grpc-js server of the ByteStream service in its own process.
// Write discards the bytes; Read streams bytes from memory. No store, no hashing: whatever
// peercas does beyond this costs throughput, which is what the ratios measure.
import * as grpc from '@grpc/grpc-js'
import { once } from 'node:events'
import { randomFillSync } from 'node:crypto'
import { bytestream } from '../../node/reapi/protos.js'
import { parseReadResourceName } from '../../node/domain/resource-names.js'
import { READ_CHUNK_BYTES } from '../../node/reapi/constants.js'
import type { ByteStreamHandlers } from '../../node/generated/google/bytestream/ByteStream.js'
import type { WriteRequest__Output } from '../../node/generated/google/bytestream/WriteRequest.js'
import { serveWorker } from '../lib/worker.js'

let memory = Buffer.alloc(0)
let server: grpc.Server | undefined

const handlers: ByteStreamHandlers = {
  Read (call) {
    void (async () => {
      const { digest } = parseReadResourceName(call.request.resourceName)
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
  async listen ({ socketPath, options, prefill }: { socketPath: string, options?: grpc.ServerOptions, prefill?: number }) {
    if (prefill !== undefined) { memory = Buffer.allocUnsafe(prefill); randomFillSync(memory) }
    server = new grpc.Server(options ?? {})
    server.addService(bytestream.ByteStream.service, handlers)
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

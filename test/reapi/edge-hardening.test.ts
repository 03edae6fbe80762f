import { describe, it, expect } from 'vitest'
import { randomBytes, randomUUID } from 'node:crypto'
import * as grpc from '@grpc/grpc-js'
import { startTestNode } from '../helpers/node.js'
import { digestOf } from '../../node/store/digest.js'
import { unary } from '../../node/reapi/clients.js'

describe('the gRPC edge', () => {
  it('lets a call in flight finish during a stop, and stops as soon as it has', async () => {
    const node = await startTestNode()
    try {
      const data = randomBytes(200_000)
      const d = digestOf(data)
      let answer: { error: unknown, committed?: number } | undefined
      const call = node.clients.byteStream.Write((error, response) => { answer = { error, committed: response == null ? undefined : Number(response.committedSize) } })
      call.write({ resourceName: `uploads/${randomUUID()}/blobs/${d.hash}/${d.sizeBytes}`, writeOffset: 0, data: data.subarray(0, 100_000), finishWrite: false })
      await new Promise((resolve) => setTimeout(resolve, 100))
      const started = performance.now()
      const stopped = node.stop(5000)
      setTimeout(() => {
        call.write({ writeOffset: 100_000, data: data.subarray(100_000), finishWrite: true })
        call.end()
      }, 300)
      await stopped
      const took = performance.now() - started
      for (let i = 0; i < 100 && answer === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      expect(answer, JSON.stringify(answer)).toEqual({ error: null, committed: d.sizeBytes })
      expect(took).toBeGreaterThanOrEqual(250)
      expect(took).toBeLessThan(4000)
    } finally {
      await node.stop()
    }
  })

  it('answers INVALID_ARGUMENT to a streamed message that is not a protobuf message, and keeps serving', async () => {
    const node = await startTestNode()
    const client = new grpc.Client(`unix:${node.socketPath}`, grpc.credentials.createInsecure())
    try {
      const error = await new Promise<grpc.ServiceError | null>((resolve) => {
        const call = client.makeClientStreamRequest('/google.bytestream.ByteStream/Write', (b: Buffer) => b, (b: Buffer) => b, (e) => { resolve(e) })
        call.write(Buffer.from([0xff, 0xff, 0xff]))
        call.end()
      })
      expect(error?.code, error?.details).toBe(grpc.status.INVALID_ARGUMENT)
      expect(error?.details).toMatch(/ByteStream\/Write/)
      const caps = node.clients.capabilities
      expect(await unary(caps.GetCapabilities.bind(caps), {})).toHaveProperty('cacheCapabilities')
    } finally {
      client.close()
      await node.stop()
    }
  })
})

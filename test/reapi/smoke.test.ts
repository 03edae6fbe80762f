import { describe, it, expect, afterAll, beforeAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { unary } from '../../node/reapi/clients.js'
import { digestOf } from '../../node/store/digest.js'

describe('smoke', () => {
  let node: TestNode
  beforeAll(async () => { node = await startTestNode() })
  afterAll(async () => { await node.stop() })

  it('runs on Node 22 or newer', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22)
  })

  it('stores a blob with BatchUpdateBlobs and reads it back', async () => {
    const data = randomBytes(1000)
    const d = digestOf(data)
    const up = await unary(node.clients.cas.BatchUpdateBlobs.bind(node.clients.cas), { requests: [{ digest: d, data }] })
    expect(up.responses[0]!.status!.code).toBe(0)
    const missing = await unary(node.clients.cas.FindMissingBlobs.bind(node.clients.cas), { blobDigests: [d, digestOf(Buffer.from('nope'))] })
    expect(missing.missingBlobDigests.map((m) => m.hash)).toEqual([digestOf(Buffer.from('nope')).hash])
    const read = await unary(node.clients.cas.BatchReadBlobs.bind(node.clients.cas), { digests: [d] })
    expect(Buffer.compare(read.responses[0]!.data, data)).toBe(0)
  })
})

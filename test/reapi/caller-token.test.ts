import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import { createClients, unary, type ReapiClients } from '../../node/reapi/clients.js'
import { CallerTokenFileError } from '../../node/reapi/caller-tokens.js'
import { createLogger } from '../../node/log/logger.js'
import { digestOf } from '../../node/store/digest.js'
import { makeTempDir, startTestNode, type TestNode } from '../helpers/node.js'
import { expectRpcError } from '../helpers/grpc.js'

const TOKEN = randomBytes(32).toString('hex')

function bearer (value: string): grpc.Metadata {
  const metadata = new grpc.Metadata()
  metadata.set('authorization', value)
  return metadata
}

describe('TCP listener tokens', () => {
  let node: TestNode
  let tokenFile: string
  let guarded: ReapiClients
  let open: ReapiClients
  const lines: Array<Record<string, unknown>> = []
  beforeAll(async () => {
    const dir = await makeTempDir()
    tokenFile = join(dir, 'listen.token')
    await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 })
    const logger = createLogger('peercas', { level: 'warn', write: (line) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
    node = await startTestNode({ listen: [{ address: '127.0.0.1:0', tokenFile }, '127.0.0.1:0'] }, { logger })
    guarded = createClients(node.tcpAddresses[0]!)
    open = createClients(node.tcpAddresses[1]!)
  })
  afterAll(async () => {
    guarded?.close()
    open?.close()
    await node?.stop()
  })

  const blob = (): { digest: ReturnType<typeof digestOf>, data: Buffer } => {
    const data = randomBytes(100)
    return { digest: digestOf(data), data }
  }
  const update = async (clients: ReapiClients, metadata?: grpc.Metadata): Promise<{ digest: ReturnType<typeof digestOf> }> => {
    const { digest, data } = blob()
    await unary(clients.cas.BatchUpdateBlobs.bind(clients.cas), { requests: [{ digest, data }] }, {}, metadata)
    return { digest }
  }

  it('refuses a call without a token with UNAUTHENTICATED and a message saying what to send', async () => {
    await expectRpcError(update(guarded), grpc.status.UNAUTHENTICATED, /requires a token.*authorization: Bearer <token>.*remote_header=authorization=Bearer/)
    await expectRpcError(unary(guarded.capabilities.GetCapabilities.bind(guarded.capabilities), {}), grpc.status.UNAUTHENTICATED)
    expect(node.store.stats().blobCount).toBe(0)
  })

  it('refuses a call with a wrong token, or not in Bearer form, and stores nothing', async () => {
    await expectRpcError(update(guarded, bearer(`Bearer ${TOKEN.slice(1)}x`)), grpc.status.UNAUTHENTICATED, /does not match/)
    await expectRpcError(update(guarded, bearer(`Basic ${TOKEN}`)), grpc.status.UNAUTHENTICATED, /not "Bearer <token>"/)
    await expectRpcError(update(guarded, bearer(TOKEN)), grpc.status.UNAUTHENTICATED, /not "Bearer <token>"/)
    // A client-streaming call is refused before any byte is stored.
    const { digest, data } = blob()
    const metadata = bearer('Bearer wrong-token-wrong-token')
    const write = new Promise((resolve, reject) => {
      const call = guarded.byteStream.Write(metadata, (error, response) => { if (error != null) reject(error); else resolve(response) })
      call.write({ resourceName: `uploads/${crypto.randomUUID()}/blobs/${digest.hash}/${digest.sizeBytes}`, writeOffset: 0, data, finishWrite: true })
      call.end()
    })
    await expectRpcError(write, grpc.status.UNAUTHENTICATED)
    expect(await node.store.has(digest)).toBe(false)
    expect(node.store.stats().blobCount).toBe(0)
  })

  it('serves a call with the right token', async () => {
    const { digest } = await update(guarded, bearer(`Bearer ${TOKEN}`))
    expect(await node.store.has(digest)).toBe(true)
  })

  it('needs no token on the unix socket nor on a listener without one, and warns at start about the latter only', async () => {
    const { digest } = await update(node.clients)
    expect(await node.store.has(digest)).toBe(true)
    const viaOpen = await update(open)
    expect(await node.store.has(viaOpen.digest)).toBe(true)
    const warnings = lines.filter((l) => /TCP listener without a token/.test(String(l.msg)))
    expect(warnings.map((l) => l.address)).toEqual([node.tcpAddresses[1]])
  })
})

describe('listener token configuration', () => {
  it('applies listenTokenFile to every listener that names no token file of its own', async () => {
    const dir = await makeTempDir()
    const file = join(dir, 'token')
    await writeFile(file, TOKEN)
    const node = await startTestNode({ listen: ['127.0.0.1:0'], listenTokenFile: file })
    const clients = createClients(node.tcpAddresses[0]!)
    try {
      await expectRpcError(unary(clients.capabilities.GetCapabilities.bind(clients.capabilities), {}), grpc.status.UNAUTHENTICATED)
      await unary(clients.capabilities.GetCapabilities.bind(clients.capabilities), {}, {}, bearer(`Bearer ${TOKEN}`))
    } finally {
      clients.close()
      await node.stop()
    }
  })

  it('refuses to start with a token file that is missing, empty, several words or too short, naming it', async () => {
    const dir = await makeTempDir()
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['missing', undefined, /cannot read the listener token file/],
      ['empty', '\n', /is empty/],
      ['two words', 'abcdefghijklmnop qrstuvwxyz0123456', /one token of printable characters without spaces/],
      ['short', 'abc123', /6 characters, fewer than 16/]
    ]
    for (const [what, content, why] of cases) {
      const file = join(dir, `${what.replace(' ', '-')}.token`)
      if (content !== undefined) await writeFile(file, content)
      const dataDir = join(dir, `data-${what.replace(' ', '-')}`)
      const start = startTestNode({ listen: [{ address: '127.0.0.1:0', tokenFile: file }] }, { dataDir })
      await expect(start, what).rejects.toThrow(CallerTokenFileError)
      await expect(start, what).rejects.toThrow(file)
      await expect(start, what).rejects.toThrow(why)
      expect(existsSync(dataDir), what).toBe(false)
    }
  })
})

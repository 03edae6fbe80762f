import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { createClients, unary, type ReapiClients } from '../../node/reapi/clients.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { makeTempDir, startTestNode, type TestNode } from '../helpers/node.js'
import { startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import { expectRpcError } from '../helpers/grpc.js'
import { peercas } from '../helpers/process.js'

const write = async (clients: ReapiClients, action: Digest, exitCode: number, instanceName = ''): Promise<void> => {
  await unary(clients.actionCache.UpdateActionResult.bind(clients.actionCache), { instanceName, actionDigest: action, actionResult: { exitCode } })
}
const read = async (clients: ReapiClients, action: Digest, instanceName = ''): Promise<{ exitCode: number }> =>
  await unary(clients.actionCache.GetActionResult.bind(clients.actionCache), { instanceName, actionDigest: action })

describe('build environments', () => {
  let node: TestNode
  let gcc12: ReapiClients
  let gcc13: ReapiClients
  let pinned: ReapiClients
  const opened: ReapiClients[] = []
  let dir = ''

  beforeAll(async () => {
    dir = await makeTempDir('peercas-env-')
    node = await startTestNode({
      endpoints: [
        { socket: join(dir, 'gcc-12.sock'), environment: 'gcc-12' },
        { socket: join(dir, 'gcc-13.sock'), environment: 'gcc-13' },
        { socket: join(dir, 'pinned.sock'), environment: 'gcc-12', instance: 'main' }
      ]
    })
    gcc12 = createClients(`unix:${join(dir, 'gcc-12.sock')}`)
    gcc13 = createClients(`unix:${join(dir, 'gcc-13.sock')}`)
    pinned = createClients(`unix:${join(dir, 'pinned.sock')}`)
  })
  afterAll(async () => {
    for (const c of [gcc12, gcc13, pinned, ...opened]) c?.close()
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps the results of one action digest apart per environment, and shares blobs', async () => {
    const action = digestOf(randomBytes(32))
    await write(gcc12, action, 12)
    await write(gcc13, action, 13)
    expect((await read(gcc12, action)).exitCode).toBe(12)
    expect((await read(gcc13, action)).exitCode).toBe(13)
    await expectRpcError(read(node.clients, action), status.NOT_FOUND, /no complete action result/)
    const blob = randomBytes(1000)
    await unary(gcc12.cas.BatchUpdateBlobs.bind(gcc12.cas), { requests: [{ digest: digestOf(blob), data: blob }] })
    const found = await unary(gcc13.cas.FindMissingBlobs.bind(gcc13.cas), { blobDigests: [digestOf(blob)] })
    expect(found.missingBlobDigests).toEqual([])
  })

  it('puts every result through an endpoint with a pinned instance in that instance, whatever the client asks', async () => {
    const action = digestOf(randomBytes(32))
    await write(pinned, action, 7, 'anything')
    expect((await read(pinned, action, 'something-else')).exitCode).toBe(7)
    // Same environment, instance "main" through the gcc-12 socket: the same name.
    expect((await read(gcc12, action, 'main')).exitCode).toBe(7)
    await expectRpcError(read(gcc12, action, 'anything'), status.NOT_FOUND)
  })

  it('opens and closes a socket for a sandbox at run time (peercas socket open/close), with no admin service on it', async () => {
    const open = await peercas(['socket', 'open', '--environment', 'sdk-2024', '--socket', node.socketPath])
    expect(open).toMatchObject({ code: 0, stderr: '' })
    const path = open.stdout.trim()
    expect(existsSync(path)).toBe(true)
    const sandbox = createClients(`unix:${path}`)
    opened.push(sandbox)
    const action = digestOf(randomBytes(32))
    await write(sandbox, action, 24)
    expect((await read(sandbox, action)).exitCode).toBe(24)
    await expectRpcError(read(node.clients, action), status.NOT_FOUND)
    await expectRpcError(unary(sandbox.admin.GetStatus.bind(sandbox.admin), {}), status.UNIMPLEMENTED)
    const close = await peercas(['socket', 'close', path, '--socket', node.socketPath])
    expect(close.code).toBe(0)
    expect(existsSync(path)).toBe(false)
    // Closing it again names the problem.
    const again = await peercas(['socket', 'close', path, '--socket', node.socketPath])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/no endpoint opened by this node is at/)
  })

  it('refuses a malformed environment ID with a clear message', async () => {
    const bad = await peercas(['socket', 'open', '--environment', 'no spaces/or slashes', '--socket', node.socketPath])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/environment ID .* is not 1-256 characters/)
    const missing = await peercas(['socket', 'open', '--socket', node.socketPath])
    expect(missing.code).toBe(2)
  })
})

describe('one environment on two nodes', () => {
  it('shares results between teammates in the same environment, and only there', async () => {
    const dir = await makeTempDir('peercas-env2-')
    const a = await startP2pTestNode({ flags: { endpoints: [{ socket: join(dir, 'a.sock'), environment: 'gcc-12' }] } })
    const b = await startP2pTestNode({
      peers: [a.p2p.addresses[0]!],
      trust: [a.p2p.peerId],
      flags: { endpoints: [{ socket: join(dir, 'b12.sock'), environment: 'gcc-12' }, { socket: join(dir, 'b13.sock'), environment: 'gcc-13' }] }
    })
    const a12 = createClients(`unix:${join(dir, 'a.sock')}`)
    const b12 = createClients(`unix:${join(dir, 'b12.sock')}`)
    const b13 = createClients(`unix:${join(dir, 'b13.sock')}`)
    try {
      await waitFor(() => b.p2p.peers().some((p) => p.connected), 'B to connect to A')
      const action = digestOf(randomBytes(32))
      await write(a12, action, 12)
      expect((await read(b12, action)).exitCode).toBe(12)
      await expectRpcError(read(b13, action), status.NOT_FOUND)
      await expectRpcError(read(b.clients, action), status.NOT_FOUND)
    } finally {
      for (const c of [a12, b12, b13]) c.close()
      await Promise.all([a.stop(), b.stop()])
      await rm(dir, { recursive: true, force: true })
    }
  })
})

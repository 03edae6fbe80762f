import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { unary } from '../../node/reapi/clients.js'
import { reapi } from '../../node/reapi/protos.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { actionResultName, type ResultName } from '../../node/domain/names.js'
import { ResultSigner } from '../../node/trust/signatures.js'
import { startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import { startRawNameServer, type RawAnswer, type RawNameServer } from '../helpers/raw-name-server.js'
import { expectRpcError } from '../helpers/grpc.js'
import type { TestNode } from '../helpers/node.js'
import type { P2pService } from '../../node/p2p/index.js'

type P2pNode = TestNode & { p2p: P2pService }

/** An ActionResult that references no blob: complete wherever it is. */
const RESULT = Buffer.from(reapi.ActionResult.serialize({ exitCode: 0, stdoutRaw: Buffer.from('built') }))

describe('named results from peers are judged by their signer', () => {
  let listed: ResultSigner
  let stranger: ResultSigner
  /** What the raw server answers, per action hash. */
  const answers = new Map<string, RawAnswer>()
  let raw: RawNameServer
  let node: P2pNode

  beforeAll(async () => {
    listed = new ResultSigner(await generateKeyPair('Ed25519'))
    stranger = new ResultSigner(await generateKeyPair('Ed25519'))
    raw = await startRawNameServer((request) => answers.get(request.key))
    // trust.peers is also a connection allowlist: the relay (the raw server) is listed too.
    node = await startP2pTestNode({ peers: [raw.addresses[0]!], trust: [listed.peerId, raw.peerId] })
    await waitFor(() => node.p2p.peers().some((p) => p.peerId === raw.peerId && p.connected), 'the node to connect to the raw server')
  })
  afterAll(async () => { await node?.stop(); await raw?.stop() })

  /** A fresh action whose entry the raw server answers with `make(name)`. */
  const serve = async (make: (name: ResultName) => Promise<RawAnswer>, instanceName = ''): Promise<Digest> => {
    const action = digestOf(randomBytes(32))
    answers.set(`${action.hash}/${action.sizeBytes}`, await make(actionResultName(instanceName, action)))
    return action
  }
  const get = async (action: Digest, instanceName = ''): Promise<unknown> =>
    await unary(node.clients.actionCache.GetActionResult.bind(node.clients.actionCache), { instanceName, actionDigest: action })

  it('uses an entry signed by a listed peer, relayed by another peer, and keeps its signer', async () => {
    const action = await serve(async (name) => ({ value: RESULT, signature: await listed.sign(name, RESULT) }))
    expect(await get(action)).toMatchObject({ exitCode: 0 })
    const record = await node.store.names.getRecord(actionResultName('', action))
    expect(record?.signature?.signer).toBe(listed.peerId)
  })

  it('refuses an entry whose value was changed after signing, and stores nothing', async () => {
    const tampered = Buffer.from(reapi.ActionResult.serialize({ exitCode: 1 }))
    const action = await serve(async (name) => ({ value: tampered, signature: await listed.sign(name, RESULT) }))
    await expectRpcError(get(action), status.NOT_FOUND)
    expect(await node.store.names.get(actionResultName('', action))).toBeUndefined()
  })

  it('refuses a forged signature that names a listed signer', async () => {
    const action = await serve(async (name) => {
      const forged = await stranger.sign(name, RESULT)
      return { value: RESULT, signature: { ...forged, signer: listed.peerId } }
    })
    await expectRpcError(get(action), status.NOT_FOUND)
    expect(await node.store.names.get(actionResultName('', action))).toBeUndefined()
  })

  it('refuses a correctly signed entry whose signer is not listed, although the relay is (trust.results: listed)', async () => {
    const action = await serve(async (name) => ({ value: RESULT, signature: await stranger.sign(name, RESULT) }))
    await expectRpcError(get(action), status.NOT_FOUND)
  })

  it('refuses an entry replayed into another instance', async () => {
    const action = await serve(async (name) => ({ value: RESULT, signature: await listed.sign({ ...name, instanceName: 'other' }, RESULT) }), 'mine')
    await expectRpcError(get(action, 'mine'), status.NOT_FOUND)
  })

  it('refuses an entry replayed into another build environment', async () => {
    const action = await serve(async (name) => ({ value: RESULT, signature: await listed.sign({ ...name, environment: 'gcc-13' }, RESULT) }))
    await expectRpcError(get(action), status.NOT_FOUND)
  })

  it('uses an unsigned entry (a node from before signatures) only from a listed peer it asked, and vouches for it', async () => {
    const action = await serve(async () => ({ value: RESULT }))
    expect(await get(action)).toMatchObject({ exitCode: 0 })
    const record = await node.store.names.getRecord(actionResultName('', action))
    expect(record?.signature?.signer).toBe(node.p2p.peerId)
  })

  it('refuses entries of a revoked signer, and asks with the kind and environment of the name', async () => {
    const revoking = await startP2pTestNode({ peers: [raw.addresses[0]!], trust: [listed.peerId, raw.peerId], revoked: [listed.peerId] })
    try {
      await waitFor(() => revoking.p2p.peers().some((p) => p.peerId === raw.peerId && p.connected), 'the node to connect to the raw server')
      const action = await serve(async (name) => ({ value: RESULT, signature: await listed.sign(name, RESULT) }))
      await expectRpcError(unary(revoking.clients.actionCache.GetActionResult.bind(revoking.clients.actionCache), { actionDigest: action }), status.NOT_FOUND)
      const request = raw.requests.find((r) => r.key === `${action.hash}/${action.sizeBytes}`)
      // A revoked signer's own node is not even asked; the raw server was (it is not revoked).
      expect(request).toMatchObject({ kind: 'action-result', instanceName: '', environment: '' })
    } finally {
      await revoking.stop()
    }
  })

  it('uses any correctly signed entry under trust.results: team', async () => {
    const team = await startP2pTestNode({ peers: [raw.addresses[0]!], results: 'team' })
    try {
      await waitFor(() => team.p2p.peers().some((p) => p.peerId === raw.peerId && p.connected), 'the node to connect to the raw server')
      const action = await serve(async (name) => ({ value: RESULT, signature: await stranger.sign(name, RESULT) }))
      expect(await unary(team.clients.actionCache.GetActionResult.bind(team.clients.actionCache), { actionDigest: action })).toMatchObject({ exitCode: 0 })
      const forged = await serve(async (name) => ({ value: Buffer.from(reapi.ActionResult.serialize({ exitCode: 3 })), signature: await stranger.sign(name, RESULT) }))
      await expectRpcError(unary(team.clients.actionCache.GetActionResult.bind(team.clients.actionCache), { actionDigest: forged }), status.NOT_FOUND)
    } finally {
      await team.stop()
    }
  })

  it('uses no entry from peers under trust.results: none', async () => {
    const closed = await startP2pTestNode({ peers: [raw.addresses[0]!], trust: [listed.peerId, raw.peerId], results: 'none' })
    try {
      await waitFor(() => closed.p2p.peers().some((p) => p.peerId === raw.peerId && p.connected), 'the node to connect to the raw server')
      const action = await serve(async (name) => ({ value: RESULT, signature: await listed.sign(name, RESULT) }))
      await expectRpcError(unary(closed.clients.actionCache.GetActionResult.bind(closed.clients.actionCache), { actionDigest: action }), status.NOT_FOUND)
    } finally {
      await closed.stop()
    }
  })
})

describe('signatures across real nodes', () => {
  it('verifies an entry relayed through a middle node against its original signer', async () => {
    const writer = await startP2pTestNode()
    // The middle node lists nobody (no connection allowlist) and takes any team member's entries.
    const middle = await startP2pTestNode({ peers: [writer.p2p.addresses[0]!], results: 'team' })
    // The reader lists the writer (and the relay: trust.peers is also a connection allowlist), but never connects to the writer.
    const reader = await startP2pTestNode({ peers: [middle.p2p.addresses[0]!], trust: [writer.p2p.peerId, middle.p2p.peerId] })
    const trustsOnlyMiddle = await startP2pTestNode({ peers: [middle.p2p.addresses[0]!], trust: [middle.p2p.peerId] })
    try {
      const action = digestOf(randomBytes(32))
      await unary(writer.clients.actionCache.UpdateActionResult.bind(writer.clients.actionCache), { actionDigest: action, actionResult: { exitCode: 0 } })
      // The middle node gets it from the writer, signed by the writer.
      expect(await unary(middle.clients.actionCache.GetActionResult.bind(middle.clients.actionCache), { actionDigest: action })).toMatchObject({ exitCode: 0 })
      expect((await middle.store.names.getRecord(actionResultName('', action)))?.signature?.signer).toBe(writer.p2p.peerId)
      await waitFor(() => reader.p2p.peers().some((p) => p.connected) && trustsOnlyMiddle.p2p.peers().some((p) => p.connected), 'the readers to connect to the middle node')
      // The reader never talks to the writer: it accepts the relayed entry because the writer signed it.
      expect(await unary(reader.clients.actionCache.GetActionResult.bind(reader.clients.actionCache), { actionDigest: action })).toMatchObject({ exitCode: 0 })
      // Trusting the relay is not trusting what it relays.
      await expectRpcError(unary(trustsOnlyMiddle.clients.actionCache.GetActionResult.bind(trustsOnlyMiddle.clients.actionCache), { actionDigest: action }), status.NOT_FOUND)
    } finally {
      await Promise.all([writer.stop(), middle.stop(), reader.stop(), trustsOnlyMiddle.stop()])
    }
  })

  it('removes the stored entries of a revoked signer at start and on reload', async () => {
    const writer = await startP2pTestNode()
    const holder = await startP2pTestNode({ peers: [writer.p2p.addresses[0]!], trust: [writer.p2p.peerId], keepData: true })
    const actions = [digestOf(randomBytes(32)), digestOf(randomBytes(32))]
    let restarted: P2pNode | undefined
    try {
      for (const action of actions) {
        await unary(writer.clients.actionCache.UpdateActionResult.bind(writer.clients.actionCache), { actionDigest: action, actionResult: { exitCode: 0 } })
        await unary(holder.clients.actionCache.GetActionResult.bind(holder.clients.actionCache), { actionDigest: action })
      }
      // One of its own too: revoking the writer must not touch it.
      const own = digestOf(randomBytes(32))
      await unary(holder.clients.actionCache.UpdateActionResult.bind(holder.clients.actionCache), { actionDigest: own, actionResult: { exitCode: 0 } })
      // Reload: the first entry goes at once.
      const removed = await holder.reloadTrust({ peers: [writer.p2p.peerId], results: 'listed', revoked: [writer.p2p.peerId] })
      expect(removed).toBe(2)
      for (const action of actions) expect(await holder.store.names.get(actionResultName('', action))).toBeUndefined()
      expect(await holder.store.names.get(actionResultName('', own))).toBeDefined()
      // And a revoked signer's entry that comes back later is refused.
      await expectRpcError(unary(holder.clients.actionCache.GetActionResult.bind(holder.clients.actionCache), { actionDigest: actions[0] }), status.NOT_FOUND)
      // At start: restart with the writer still trusted, fetch again, then restart revoking it.
      await holder.stop()
      restarted = await startP2pTestNode({ dataDir: holder.dataDir, peers: [writer.p2p.addresses[0]!], trust: [writer.p2p.peerId], keepData: true })
      await waitFor(() => restarted!.p2p.peers().some((p) => p.connected), 'the holder to reconnect')
      await unary(restarted.clients.actionCache.GetActionResult.bind(restarted.clients.actionCache), { actionDigest: actions[1] })
      expect(await restarted.store.names.get(actionResultName('', actions[1]!))).toBeDefined()
      await restarted.stop()
      restarted = await startP2pTestNode({ dataDir: holder.dataDir, trust: [writer.p2p.peerId], revoked: [writer.p2p.peerId] })
      expect(await restarted.store.names.get(actionResultName('', actions[1]!))).toBeUndefined()
      expect(await restarted.store.names.get(actionResultName('', own))).toBeDefined()
    } finally {
      await Promise.all([writer.stop(), restarted?.stop()])
    }
  })
})

describe('entries from before signatures', () => {
  it('are signed as the node\'s own on the first start that knows signatures, once', async () => {
    const node = await startP2pTestNode({ keepData: true })
    const action = digestOf(randomBytes(32))
    // An entry as an older node stored it: no signature.
    await node.store.names.put(actionResultName('', action), RESULT)
    const dataDir = node.dataDir
    await node.stop()
    // The marker says the migration already ran for this data dir: remove it, as an older node's data dir lacks it.
    const { Level } = await import('level')
    const db = new Level<string, Buffer>(join(dataDir, 'index'), { keyEncoding: 'utf8', valueEncoding: 'buffer' })
    await db.sublevel<string, Buffer>('trust', { keyEncoding: 'utf8', valueEncoding: 'buffer' }).del('signed-entries-v1')
    await db.close()
    const again = await startP2pTestNode({ dataDir })
    try {
      await waitFor(async () => (await again.store.names.getRecord(actionResultName('', action)))?.signature !== undefined, 'the old entry to be signed')
      expect((await again.store.names.getRecord(actionResultName('', action)))?.signature?.signer).toBe(again.p2p.peerId)
    } finally {
      await again.stop()
    }
  })

  it('refuses trust.results: team without a team key, naming the setting', async () => {
    await expect(startP2pTestNode({ results: 'team', p2p: { psk: '' } })).rejects.toThrow(/trust\.results.*needs a team key/)
  })
})

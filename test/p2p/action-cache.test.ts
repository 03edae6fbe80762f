import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import type { ClientReadableStream } from '@grpc/grpc-js'
import { unary } from '../../node/reapi/clients.js'
import { reapi } from '../../node/reapi/protos.js'
import { digestOf } from '../../node/store/digest.js'
import type { SyncProgress__Output } from '../../node/generated/peercas/admin/v1/SyncProgress.js'
import type { SyncProgress } from '../../node/generated/peercas/admin/v1/SyncProgress.js'
import { startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import type { TestNode } from '../helpers/node.js'
import type { P2pService } from '../../node/p2p/index.js'
import { encodeMeta, type IndexDb } from '../../node/store/index-db.js'
import { actionResultName } from '../../node/domain/names.js'
import type { P2pNode as P2pImplementation } from '../../node/p2p/p2p-node.js'
import { LIST_NAMES_PROTOCOL } from '../../node/p2p/constants.js'

type P2pNode = TestNode & { p2p: P2pService }

/** Stores an output blob and an action result referencing it on `node`; returns the action digest. */
async function seedAction (node: P2pNode, instanceName = ''): Promise<{ action: { hash: string, sizeBytes: number }, output: Buffer }> {
  const output = randomBytes(3000)
  const outDigest = digestOf(output)
  await node.store.put(outDigest, output)
  const action = digestOf(randomBytes(64))
  const result = reapi.ActionResult.serialize({ outputFiles: [{ path: 'out.bin', digest: outDigest }], exitCode: 0 })
  await node.store.names.put(actionResultName(instanceName, action), result)
  return { action, output }
}

describe('action-cache lookups from peers', () => {
  let a: P2pNode
  let trusting: P2pNode
  let untrusting: P2pNode

  beforeAll(async () => {
    a = await startP2pTestNode()
    trusting = await startP2pTestNode({ peers: [a.p2p.addresses[0]!], trust: [a.p2p.peerId] })
    untrusting = await startP2pTestNode({ peers: [a.p2p.addresses[0]!] })
    await waitFor(() => a.p2p.peers().filter((p) => p.connected).length === 2, 'both nodes to connect to A')
  })
  afterAll(async () => { await Promise.all([a?.stop(), trusting?.stop(), untrusting?.stop()]) })

  it('answers GetActionResult from a trusted peer and fetches the outputs from it', async () => {
    const { action, output } = await seedAction(a, 'ns')
    await waitFor(() => trusting.p2p.candidates(digestOf(output)).length === 1, 'A to announce the output')
    const result = await unary(trusting.clients.actionCache.GetActionResult.bind(trusting.clients.actionCache), { instanceName: 'ns', actionDigest: action })
    expect(result.outputFiles[0]!.digest!.hash).toBe(digestOf(output).hash)
    expect(await trusting.store.has(digestOf(output))).toBe(true)
    expect(await trusting.store.names.get(actionResultName('ns', action))).toBeDefined()
  })

  it('keeps namespaces apart', async () => {
    const { action } = await seedAction(a, 'ns-one')
    await expect(unary(trusting.clients.actionCache.GetActionResult.bind(trusting.clients.actionCache), { instanceName: 'ns-two', actionDigest: action })).rejects.toMatchObject({ code: 5 })
  })

  it('ignores peers that are not in trust.peers', async () => {
    const { action } = await seedAction(a)
    await expect(unary(untrusting.clients.actionCache.GetActionResult.bind(untrusting.clients.actionCache), { instanceName: '', actionDigest: action })).rejects.toMatchObject({ code: 5 })
  })

  it('syncs every action result and blob from a trusted peer, and a re-run skips them all', async () => {
    const seeded = [await seedAction(a, 'sync'), await seedAction(a, 'sync')]
    const loose = randomBytes(70_000)
    await a.store.put(digestOf(loose), loose)
    const laptop = await startP2pTestNode({ trust: [a.p2p.peerId] })
    try {
      const run = async (): Promise<SyncProgress__Output> => {
        const call = laptop.clients.admin.Sync({ peer: a.p2p.addresses[0]!, sinceSeconds: 0, acOnly: false }) as ClientReadableStream<SyncProgress__Output>
        let last: SyncProgress__Output | undefined
        for await (const p of call as AsyncIterable<SyncProgress__Output>) last = p
        return last!
      }
      const first = await run()
      expect(first.done).toBe(true)
      expect(first.failedItems).toBe(0)
      for (const s of seeded) {
        expect(await laptop.store.names.get(actionResultName('sync', s.action))).toBeDefined()
        expect(await laptop.store.has(digestOf(s.output))).toBe(true)
      }
      expect(await laptop.store.has(digestOf(loose))).toBe(true)
      expect(laptop.store.stats().blobCount).toBe(a.store.stats().blobCount)
      const second = await run()
      expect(second.done).toBe(true)
      expect(second.doneItems).toBe(0)
      expect(second.skippedItems).toBe(second.totalItems)
    } finally {
      await laptop.stop()
    }
  })

  it('syncs only what the peer wrote or used within --since', async () => {
    const old = await seedAction(a, 'since')
    const fresh = await seedAction(a, 'since')
    const oldLoose = randomBytes(5000)
    await a.store.put(digestOf(oldLoose), oldLoose)
    // Age the old entries by a day on A: the action result's write time and the blobs' access times.
    const index = (a.store as unknown as { index: IndexDb }).index
    const dayAgo = Date.now() - 86_400_000
    const time = Buffer.alloc(8); time.writeDoubleLE(dayAgo)
    await index.actionTimes.put(`since\0${old.action.hash}/${old.action.sizeBytes}`, time)
    for (const blob of [old.output, oldLoose]) {
      await index.blobs.put(digestOf(blob).hash, encodeMeta({ sizeBytes: blob.length, accessedAt: dayAgo, inline: true }))
    }
    const laptop = await startP2pTestNode({ trust: [a.p2p.peerId] })
    try {
      const call = laptop.clients.admin.Sync({ peer: a.p2p.addresses[0]!, sinceSeconds: 3600, acOnly: false }) as ClientReadableStream<SyncProgress__Output>
      let last: SyncProgress__Output | undefined
      for await (const p of call as AsyncIterable<SyncProgress__Output>) last = p
      expect(last!.done).toBe(true)
      expect(await laptop.store.names.get(actionResultName('since', fresh.action))).toBeDefined()
      expect(await laptop.store.has(digestOf(fresh.output))).toBe(true)
      expect(await laptop.store.names.get(actionResultName('since', old.action))).toBeUndefined()
      expect(await laptop.store.has(digestOf(oldLoose))).toBe(false)
    } finally {
      await laptop.stop()
    }
  })

  it('takes on a bounded number of missing entries per run, and a second run pulls the rest', async () => {
    const seeded = [await seedAction(a, 'bounded'), await seedAction(a, 'bounded'), await seedAction(a, 'bounded')]
    const laptop = await startP2pTestNode({ trust: [a.p2p.peerId] })
    try {
      const run = async (): Promise<SyncProgress> => {
        let last: SyncProgress | undefined
        for await (const p of laptop.p2p.sync({ peer: a.p2p.addresses[0]!, sinceMs: 0, acOnly: true, signal: AbortSignal.timeout(30_000), maxPending: 2 })) last = p
        return last!
      }
      const first = await run()
      expect(first.message).toMatch(/run sync again/)
      const have = async (): Promise<number> => (await Promise.all(seeded.map(async (s) => await laptop.store.names.get(actionResultName('bounded', s.action))))).filter((x) => x !== undefined).length
      const afterFirst = await have()
      expect(afterFirst).toBeLessThan(3)
      await run()
      await run()
      expect(await have()).toBe(3)
    } finally {
      await laptop.stop()
    }
  })

  it('syncs an output directory: the tree and every file in it, before the result', async () => {
    // Its own holder: A has just accepted many connections (libp2p limits inbound connections per host per second).
    const holder = await startP2pTestNode()
    const files = [randomBytes(2000), randomBytes(40_000)]
    for (const f of files) await holder.store.put(digestOf(f), f)
    const tree = Buffer.from(reapi.Tree.serialize({ root: { files: files.map((f, i) => ({ name: `f${i}`, digest: digestOf(f) })) }, children: [] }))
    await holder.store.put(digestOf(tree), tree)
    const action = digestOf(randomBytes(64))
    await holder.store.names.put(actionResultName('tree', action), reapi.ActionResult.serialize({ outputDirectories: [{ path: 'out', treeDigest: digestOf(tree) }], exitCode: 0 }))
    const laptop = await startP2pTestNode({ trust: [holder.p2p.peerId] })
    try {
      let last: SyncProgress | undefined
      for await (const p of laptop.p2p.sync({ peer: holder.p2p.addresses[0]!, sinceMs: 0, acOnly: true, signal: AbortSignal.timeout(30_000) })) last = p
      expect(last).toMatchObject({ done: true, failedItems: 0, message: '' })
      expect(await laptop.store.names.get(actionResultName('tree', action))).toBeDefined()
      for (const blob of [tree, ...files]) expect(await laptop.store.has(digestOf(blob))).toBe(true)
    } finally {
      await Promise.all([holder.stop(), laptop.stop()])
    }
  })

  it('syncs action results from a node that lists only with /peercas/list/1.0.0', async () => {
    const old = await startP2pTestNode()
    const laptop = await startP2pTestNode({ trust: [old.p2p.peerId] })
    try {
      await (old.p2p as P2pImplementation).libp2p.unhandle(LIST_NAMES_PROTOCOL)
      const seeded = await seedAction(old, 'old-list')
      let last: SyncProgress | undefined
      for await (const p of laptop.p2p.sync({ peer: old.p2p.addresses[0]!, sinceMs: 0, acOnly: true, signal: AbortSignal.timeout(30_000) })) last = p
      expect(last!.done).toBe(true)
      expect(last!.doneItems).toBe(1)
      expect(await laptop.store.names.get(actionResultName('old-list', seeded.action))).toBeDefined()
      expect(await laptop.store.has(digestOf(seeded.output))).toBe(true)
    } finally {
      await Promise.all([old.stop(), laptop.stop()])
    }
  })
})

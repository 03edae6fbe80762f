import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { unary } from '../../node/reapi/clients.js'
import { reapi } from '../../node/reapi/protos.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import type { P2pNode } from '../../node/p2p/p2p-node.js'
import type { P2pService } from '../../node/p2p/index.js'
import { ACTION_RESULT_PROTOCOL, ACTION_RESULT_STREAM_PROTOCOL, NAMED_RESULT_PROTOCOL } from '../../node/p2p/constants.js'
import { fromBlobRef } from '../../node/p2p/cid.js'
import { startBarePeer, startP2pTestNode, waitFor, type BarePeer } from '../helpers/p2p-nodes.js'
import { startRawPeer, type RawPeer } from '../helpers/raw-peer.js'
import { actionResultName } from '../../node/domain/names.js'
import { isJudged } from '../../node/trust/policy.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

const lie = (_d: Digest, _o: number, chunk: Uint8Array): Uint8Array => { const c = Uint8Array.from(chunk); c[0]! ^= 0xff; return c }

/** A bare peer (no gRPC) that trusts `trust` for action results. */
async function startTrustingPeer (options: { peers: string[], trust: string[] }): Promise<BarePeer> {
  const peer = await startBarePeer(options)
  cleanups.push(peer.stop)
  return peer
}

async function holder (p2p?: Record<string, unknown>): Promise<BarePeer> {
  const peer = await startBarePeer({ p2p })
  cleanups.push(peer.stop)
  return peer
}

/** A raw peer that answers lookups with inline blobs whose bytes do not match their digests. */
async function liar (): Promise<RawPeer> {
  const peer = await startRawPeer({ corrupt: lie })
  cleanups.push(peer.stop)
  return peer
}

/** Stores blobs on `peer`; returns their digests. */
async function put (peer: BarePeer, ...blobs: Buffer[]): Promise<Digest[]> {
  const digests = blobs.map((b) => digestOf(b))
  for (let i = 0; i < blobs.length; i++) await peer.store.put(digests[i]!, blobs[i]!)
  return digests
}

/** Stores an action result on `peer` naming `files` as outputs (and optional stdout / tree). */
async function putResult (peer: BarePeer, files: Digest[], extra: { stdout?: Digest, tree?: Digest } = {}): Promise<Digest> {
  const action = digestOf(randomBytes(64))
  await peer.store.names.put(actionResultName('', action), reapi.ActionResult.serialize({
    outputFiles: files.map((digest, i) => ({ path: `out${i}`, digest })),
    outputDirectories: extra.tree !== undefined ? [{ path: 'dir', treeDigest: extra.tree }] : [],
    stdoutDigest: extra.stdout,
    exitCode: 0
  }))
  return action
}

async function connected (a: BarePeer, b: BarePeer): Promise<void> {
  await waitFor(() => a.p2p.peers().some((p) => p.peerId === b.p2p.peerId && p.connected), 'the peers to connect')
}

describe('blobs inlined in action-result answers', () => {
  it('stores the small outputs, stdout, a tree and its files from the answer, verified, without a fetch', async () => {
    const a = await holder()
    const small = randomBytes(3000)
    const stdout = Buffer.from('built\n')
    const inTree = randomBytes(5000)
    const big = randomBytes(1024 * 1024 + 1)
    const [smallD, stdoutD, inTreeD, bigD] = await put(a, small, stdout, inTree, big)
    const tree = Buffer.from(reapi.Tree.serialize({ root: { files: [{ name: 'f', digest: inTreeD }] }, children: [] }))
    const [treeD] = await put(a, tree)
    const action = await putResult(a, [smallD!, bigD!], { stdout: stdoutD, tree: treeD })
    // B does not know A's summary yet, so nothing could have come through the fetch protocol.
    const b = await startTrustingPeer({ peers: [a.p2p.addresses[0]!], trust: [a.p2p.peerId] })
    await connected(b, a)
    const bytes = await b.p2p.nameFetcher.fetchNamed(actionResultName('', action), AbortSignal.timeout(5000))
    expect(bytes).toBeDefined()
    // Judged before the inline blobs were stored (an unsigned entry, from a trusted peer); the
    // resolver uses this verdict instead of judging the answer again.
    expect(isJudged(bytes!)).toBe(true)
    for (const d of [smallD!, stdoutD!, treeD!, inTreeD!]) expect(await b.store.read(d)).toBeDefined()
    expect(Buffer.compare((await b.store.read(inTreeD!))!, inTree)).toBe(0)
    // Over the 1 MiB budget: left to the fetch protocol.
    expect(await b.store.has(bigD!)).toBe(false)
    const fromA = b.p2p.peers().find((p) => p.peerId === a.p2p.peerId)!
    expect(fromA.bytesFetchedFrom).toBe(small.byteLength + stdout.byteLength + tree.byteLength + inTree.byteLength)
  })

  it('bans a trusted peer whose inline bytes do not match their digest and stores nothing from it', async () => {
    const cheat = await liar()
    const output = await cheat.put(randomBytes(4000))
    const action = digestOf(randomBytes(64))
    cheat.putActionResult('', action, reapi.ActionResult.serialize({ outputFiles: [{ path: 'out0', digest: output.digest }], exitCode: 0 }), [output])
    const b = await startTrustingPeer({ peers: [cheat.addresses[0]!], trust: [cheat.peerId] })
    await waitFor(() => b.p2p.peers().some((p) => p.peerId === cheat.peerId && p.connected), 'the peers to connect')
    expect(await b.p2p.nameFetcher.fetchNamed(actionResultName('', action), AbortSignal.timeout(5000))).toBeUndefined()
    expect(await b.store.has(output.digest)).toBe(false)
    const status = b.p2p.peers().find((p) => p.peerId === cheat.peerId)!
    expect(status.banned).toBe(true)
    expect(status.bytesFetchedFrom).toBe(0)
    // Banned: not asked again (it would answer this one honestly: nothing inline).
    const again = digestOf(randomBytes(64))
    cheat.putActionResult('', again, reapi.ActionResult.serialize({ outputFiles: [{ path: 'out0', digest: output.digest }], exitCode: 0 }))
    expect(await b.p2p.nameFetcher.fetchNamed(actionResultName('', again), AbortSignal.timeout(5000))).toBeUndefined()
  })

  it('answers GetActionResult from an honest trusted peer when another trusted peer lies', async () => {
    const cheat = await liar()
    const honest = await holder()
    const output = randomBytes(4000)
    const { digest: outputD } = await cheat.put(output)
    await put(honest, output)
    const action = digestOf(randomBytes(64))
    const result = reapi.ActionResult.serialize({ outputFiles: [{ path: 'o', digest: outputD }], exitCode: 0 })
    cheat.putActionResult('', action, result, [{ digest: outputD, data: output }])
    await honest.store.names.put(actionResultName('', action), result)
    const node = await startP2pTestNode({ peers: [cheat.addresses[0]!, honest.p2p.addresses[0]!], trust: [cheat.peerId, honest.p2p.peerId] })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.peers().filter((p) => p.connected).length === 2, 'both peers to connect')
    const answer = await unary(node.clients.actionCache.GetActionResult.bind(node.clients.actionCache), { instanceName: '', actionDigest: action })
    expect(answer.outputFiles[0]!.digest!.hash).toBe(outputD.hash)
    expect(Buffer.compare((await node.store.read(outputD))!, output)).toBe(0)
    // Both are asked at once and the first acceptable answer wins; the liar's answer, when it comes
    // first, bans it (the test above). Whichever won, nothing of the liar's bytes was stored.
    const cheatStatus = node.p2p.peers().find((p) => p.peerId === cheat.peerId)!
    if (!cheatStatus.banned) expect(cheatStatus.bytesFetchedFrom).toBe(0)
  })

  it('sends nothing inline to a node that does not ask for it (as a node before this field)', async () => {
    const a = await holder()
    const [outputD] = await put(a, randomBytes(2000))
    const action = await putResult(a, [outputD!])
    const old = await startRawPeer()
    cleanups.push(old.stop)
    await old.dial(a.p2p.addresses[0]!)
    const answer = await old.lookup(a.p2p.peerId, '', action)
    expect(answer.found).toBe(true)
    expect(answer.inlineBlobs ?? []).toEqual([])
    // The same lookup asking for inline blobs gets the output with it.
    const asking = await old.lookup(a.p2p.peerId, '', action, 1024 * 1024)
    expect((asking.inlineBlobs ?? []).map((b) => fromBlobRef(b.blob).hash)).toEqual([outputD!.hash])
  })

  it('inlines only what the asker asked for, and nothing the serve rate cannot cover now', async () => {
    const a = await holder({ maxServeRatePerPeer: 3000 })
    const [smallD, largeD] = await put(a, randomBytes(1000), randomBytes(2500))
    const b = await startRawPeer()
    cleanups.push(b.stop)
    await b.dial(a.p2p.addresses[0]!)
    // 2000 bytes asked: the 1000-byte blob fits, the 2500-byte one does not.
    const answer = await b.lookup(a.p2p.peerId, '', await putResult(a, [largeD!, smallD!]), 2000)
    expect(answer.found).toBe(true)
    expect((answer.inlineBlobs ?? []).map((blob) => fromBlobRef(blob.blob).hash)).toEqual([smallD!.hash])
    // A paces what it serves each peer at 3000 bytes/s (1 s burst): 3200 bytes for a new peer at
    // once is more than that, so nothing is inlined and the blobs are left to the paced fetch.
    const c = await startTrustingPeer({ peers: [a.p2p.addresses[0]!], trust: [a.p2p.peerId] })
    await connected(c, a)
    const [e, f] = await put(a, randomBytes(1600), randomBytes(1600))
    expect(await c.p2p.nameFetcher.fetchNamed(actionResultName('', await putResult(a, [e!, f!])), AbortSignal.timeout(5000))).toBeDefined()
    expect(await c.store.has(e!)).toBe(false)
    expect(await c.store.has(f!)).toBe(false)
  })
})

/** The libp2p node inside a p2p service (to count streams or drop a handler). */
function libp2pOf (p2p: P2pService): P2pNode['libp2p'] {
  return (p2p as P2pNode).libp2p
}

function streamsOf (from: BarePeer, to: BarePeer, protocol: string): number {
  return libp2pOf(from.p2p).getConnections().filter((c) => c.remotePeer.toString() === to.p2p.peerId)
    .flatMap((c) => c.streams).filter((s) => s.protocol === protocol && s.status === 'open').length
}

describe('reused lookup streams (/peercas/ac/2.0.0, and 1.x with older nodes)', () => {
  it('answers many lookups one after another on one stream', async () => {
    const a = await holder()
    const b = await startTrustingPeer({ peers: [a.p2p.addresses[0]!], trust: [a.p2p.peerId] })
    await connected(b, a)
    for (let i = 0; i < 20; i++) {
      const [d] = await put(a, randomBytes(100 + i))
      expect(await b.p2p.nameFetcher.fetchNamed(actionResultName('', await putResult(a, [d!])), AbortSignal.timeout(5000))).toBeDefined()
      expect(await b.store.has(d!)).toBe(true)
    }
    expect(streamsOf(b, a, NAMED_RESULT_PROTOCOL)).toBe(1)
    // A miss keeps the stream too.
    expect(await b.p2p.nameFetcher.fetchNamed(actionResultName('', digestOf(randomBytes(10))), AbortSignal.timeout(5000))).toBeUndefined()
    expect(streamsOf(b, a, NAMED_RESULT_PROTOCOL)).toBe(1)
  })

  it('opens a new stream, without penalising the peer, after the peer closed an idle one', async () => {
    // A cuts off streams on which nothing arrives for 300 ms; B would keep them idle longer.
    const a = await holder({ fetchTimeout: '300ms' })
    const b = await startTrustingPeer({ peers: [a.p2p.addresses[0]!], trust: [a.p2p.peerId] })
    await connected(b, a)
    const [d1, d2] = await put(a, randomBytes(500), randomBytes(600))
    expect(await b.p2p.nameFetcher.fetchNamed(actionResultName('', await putResult(a, [d1!])), AbortSignal.timeout(5000))).toBeDefined()
    await waitFor(() => streamsOf(b, a, NAMED_RESULT_PROTOCOL) === 0, 'A to close the idle stream')
    expect(await b.p2p.nameFetcher.fetchNamed(actionResultName('', await putResult(a, [d2!])), AbortSignal.timeout(5000))).toBeDefined()
    expect(await b.store.has(d2!)).toBe(true)
  })

  it('falls back to one lookup per stream with a node that speaks only /peercas/ac/1.0.0', async () => {
    const a = await holder()
    await libp2pOf(a.p2p).unhandle(NAMED_RESULT_PROTOCOL)
    await libp2pOf(a.p2p).unhandle(ACTION_RESULT_STREAM_PROTOCOL)
    const b = await startTrustingPeer({ peers: [a.p2p.addresses[0]!], trust: [a.p2p.peerId] })
    await connected(b, a)
    for (let i = 0; i < 3; i++) {
      const [d] = await put(a, randomBytes(700 + i))
      expect(await b.p2p.nameFetcher.fetchNamed(actionResultName('', await putResult(a, [d!])), AbortSignal.timeout(5000))).toBeDefined()
      expect(await b.store.has(d!)).toBe(true)
    }
    expect(streamsOf(b, a, ACTION_RESULT_STREAM_PROTOCOL) + streamsOf(b, a, ACTION_RESULT_PROTOCOL)).toBe(0)
  })

  it('asks a node that speaks only /peercas/ac/1.1.0 for action results on one reused stream', async () => {
    const a = await holder()
    await libp2pOf(a.p2p).unhandle(NAMED_RESULT_PROTOCOL)
    const b = await startTrustingPeer({ peers: [a.p2p.addresses[0]!], trust: [a.p2p.peerId] })
    await connected(b, a)
    for (let i = 0; i < 3; i++) {
      const [d] = await put(a, randomBytes(800 + i))
      expect(await b.p2p.nameFetcher.fetchNamed(actionResultName('', await putResult(a, [d!])), AbortSignal.timeout(5000))).toBeDefined()
      expect(await b.store.has(d!)).toBe(true)
    }
    expect(streamsOf(b, a, ACTION_RESULT_STREAM_PROTOCOL)).toBe(1)
    expect(streamsOf(b, a, NAMED_RESULT_PROTOCOL)).toBe(0)
  })
})


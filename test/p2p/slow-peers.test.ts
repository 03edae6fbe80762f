import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { unary } from '../../node/reapi/clients.js'
import { digestOf } from '../../node/store/digest.js'
import { PeerBook } from '../../node/p2p/peer-book.js'
import { PEER_ANSWER_TIMEOUT_MS, PEER_TIER_BUDGET_MS, SLOW_COOLDOWN_BASE_MS } from '../../node/p2p/constants.js'
import { startBarePeer, startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import { startRawPeer } from '../helpers/raw-peer.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

describe('peer book: slow peers', () => {
  it('ranks a peer that stalled behind a measured honest peer and an unmeasured one, and cools it down longer each time', () => {
    let now = 1_000_000
    const book = new PeerBook({ maxStreamsPerPeer: 8, maxServeRatePerPeer: 0, now: () => now })
    book.recordAnswer('honest', 5)
    expect(book.expectedMs('staller', 4096)).toBeLessThan(book.expectedMs('honest', 4096)) // unmeasured: the LAN prior
    const first = book.penalize('staller', PEER_ANSWER_TIMEOUT_MS)
    expect(first - now).toBe(SLOW_COOLDOWN_BASE_MS)
    expect(book.isCoolingDown('staller')).toBe(true)
    expect(book.isBanned('staller')).toBe(false)
    expect(book.expectedMs('staller', 4096)).toBeGreaterThan(book.expectedMs('honest', 4096))
    expect(book.expectedMs('staller', 1024 * 1024)).toBeGreaterThan(book.expectedMs('newcomer', 1024 * 1024))
    now = first + 1
    expect(book.isCoolingDown('staller')).toBe(false)
    expect(book.penalize('staller', PEER_ANSWER_TIMEOUT_MS) - now).toBe(2 * SLOW_COOLDOWN_BASE_MS)
    // An answer ends the streak: the next failure starts again at the base cool-down.
    book.recordAnswer('staller', 3)
    expect(book.penalize('staller', PEER_ANSWER_TIMEOUT_MS) - now).toBe(SLOW_COOLDOWN_BASE_MS)
  })
})

describe('a peer that accepts requests and never answers', () => {
  it('costs one bounded wait, then blobs come from an honest peer without waiting for it again', async () => {
    // fetchTimeout stays at its 30 s default: only the answer timeout and budget bound the wait.
    const staller = await startRawPeer({ stall: true, advertiseEverything: true })
    cleanups.push(staller.stop)
    const honest = await startBarePeer()
    cleanups.push(honest.stop)
    const blobs = Array.from({ length: 6 }, () => randomBytes(4096))
    for (const data of blobs) await honest.store.put(digestOf(data), data)
    // Connected first, the staller ranks first while neither peer is measured.
    const node = await startP2pTestNode({ peers: [staller.addresses[0]!] })
    cleanups.push(node.stop)
    const last = digestOf(blobs[blobs.length - 1]!)
    await waitFor(() => node.p2p.candidates(last).length === 1, 'the staller\'s summary')
    await node.p2p.dial(honest.p2p.addresses[0]!)
    await waitFor(() => node.p2p.candidates(last).length === 2, 'both summaries')
    expect(node.p2p.candidates(last)[0]).toBe(staller.peerId)

    const times: number[] = []
    for (const data of blobs) {
      const started = performance.now()
      const read = await unary(node.clients.cas.BatchReadBlobs.bind(node.clients.cas), { digests: [digestOf(data)] })
      times.push(performance.now() - started)
      expect(Buffer.compare(read.responses[0]!.data, data)).toBe(0)
    }
    expect(times[0]).toBeLessThan(PEER_ANSWER_TIMEOUT_MS + 1500)
    for (const ms of times.slice(1)) expect(ms).toBeLessThan(500)
    expect(staller.served.length).toBe(1)
    // Not a ban: the staller is only set aside for a while, and ranks behind the honest peer.
    const status = node.p2p.peers().find((p) => p.peerId === staller.peerId)!
    expect(status.banned).toBe(false)
    expect(node.p2p.candidates(last)).toEqual([honest.p2p.peerId])
  }, 20_000)

  it('holds up an action-cache miss at most the peer budget when the peer is trusted, and later misses not at all', async () => {
    const staller = await startRawPeer({ stall: true })
    cleanups.push(staller.stop)
    const node = await startP2pTestNode({ peers: [staller.addresses[0]!], trust: [staller.peerId] })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.peers().some((p) => p.peerId === staller.peerId && p.connected), 'the connection')
    const times: number[] = []
    for (let i = 0; i < 3; i++) {
      const started = performance.now()
      await expect(unary(node.clients.actionCache.GetActionResult.bind(node.clients.actionCache), { instanceName: '', actionDigest: digestOf(randomBytes(64)) })).rejects.toMatchObject({ code: 5 })
      times.push(performance.now() - started)
    }
    // The first miss waited out the budget on the silent peer…
    expect(times[0]).toBeGreaterThanOrEqual(PEER_TIER_BUDGET_MS - 100)
    expect(times[0]).toBeLessThan(PEER_TIER_BUDGET_MS + 1500)
    // …the next ones did not ask it again while it cools down.
    for (const ms of times.slice(1)) expect(ms).toBeLessThan(500)
  }, 20_000)
})

import { afterAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { SummaryTable } from '../../node/p2p/summary-table.js'
import { bloomParamsFor } from '../../node/p2p/summary.js'
import { PeerFetcher } from '../../node/p2p/peer-fetcher.js'
import { PeerBook } from '../../node/p2p/peer-book.js'
import type { FetchClient, FetchOutcome } from '../../node/p2p/fetch-client.js'
import { MAX_FETCH_CANDIDATES, MAX_SUMMARY_PEERS } from '../../node/p2p/constants.js'
import { createLogger } from '../../node/log/logger.js'
import { digestOf } from '../../node/store/digest.js'
import type { BlobReader, BlobSink } from '../../node/store/index.js'
import { startBarePeer, waitFor, type BarePeer } from '../helpers/p2p-nodes.js'
import type { PeerStatus__Output as PeerStatus } from '../../node/generated/peercas/admin/v1/PeerStatus.js'

const PARAMS = bloomParamsFor(10_000)
const BYTES = PARAMS.bits / 8

/** A table whose peer costs come from a map (default 10 ms). */
function table (costs: Record<string, number>, limits: { maxPeers?: number, maxBytes?: number } = {}): SummaryTable {
  return new SummaryTable({ cost: (peer) => costs[peer] ?? 10, ...limits })
}

function fill (t: SummaryTable, peer: string, hashes: string[]): boolean {
  const slot = t.admit(peer, PARAMS)
  if (slot === undefined) return false
  for (const h of hashes) slot.filter.add(h)
  slot.complete = true
  return true
}

describe('summary table', () => {
  it(`keeps at most ${MAX_SUMMARY_PEERS} peers' summaries by default, however many peers send one`, () => {
    const t = table({})
    for (let i = 0; i < 500; i++) fill(t, `peer-${i}`, [])
    expect(t.size).toBe(MAX_SUMMARY_PEERS)
    expect(t.byteLength).toBe(MAX_SUMMARY_PEERS * BYTES)
  })

  it('keeps the cheapest peers: a cheaper peer evicts the most expensive kept one, an equal or dearer one is dropped', () => {
    const t = table({ slow: 50, fast: 1, newcomer: 5, dear: 60 }, { maxPeers: 2 })
    expect(fill(t, 'slow', [])).toBe(true)
    expect(fill(t, 'fast', [])).toBe(true)
    expect(fill(t, 'dear', [])).toBe(false)
    expect(fill(t, 'other', [])).toBe(true) // 10 ms < 50 ms: evicts "slow"
    expect(t.get('slow')).toBeUndefined()
    expect(fill(t, 'twin', [])).toBe(false) // 10 ms is not cheaper than 10 ms
    expect(fill(t, 'newcomer', [])).toBe(true) // evicts "other"
    expect([t.get('fast'), t.get('newcomer')].every((s) => s !== undefined)).toBe(true)
    expect(t.size).toBe(2)
  })

  it('bounds the bytes of kept summaries, not only their number', () => {
    const t = table({ a: 1, b: 2, c: 3 }, { maxPeers: 10, maxBytes: 2 * BYTES })
    expect(fill(t, 'a', [])).toBe(true)
    expect(fill(t, 'b', [])).toBe(true)
    expect(fill(t, 'c', [])).toBe(false)
    expect(t.byteLength).toBe(2 * BYTES)
    expect(t.admit('huge', bloomParamsFor(1e9))).toBeUndefined()
  })

  it('never evicts for a banned (infinitely expensive) peer, and evicts banned peers first', () => {
    const costs: Record<string, number> = { a: 1, b: 2, banned: Infinity }
    const t = table(costs, { maxPeers: 2 })
    fill(t, 'a', [])
    fill(t, 'b', [])
    expect(fill(t, 'banned', [])).toBe(false)
    costs.a = Infinity
    expect(fill(t, 'c', [])).toBe(true)
    expect(t.get('a')).toBeUndefined()
  })

  it('names only peers with a complete kept summary as candidates, and forgets a peer on delete', () => {
    const t = table({})
    const hash = randomBytes(32).toString('hex')
    fill(t, 'holder', [hash])
    const arriving = t.admit('arriving', PARAMS)!
    arriving.filter.add(hash)
    expect(t.candidates(hash)).toEqual(['holder'])
    arriving.complete = true
    expect(t.candidates(hash).sort()).toEqual(['arriving', 'holder'])
    t.delete('holder')
    expect(t.candidates(hash)).toEqual(['arriving'])
    expect(t.byteLength).toBe(BYTES)
  })

  it('replaces a peer\'s summary with its next one without counting both', () => {
    const t = table({}, { maxPeers: 1 })
    expect(fill(t, 'a', [])).toBe(true)
    expect(fill(t, 'a', [])).toBe(true)
    expect(t.size).toBe(1)
    expect(t.byteLength).toBe(BYTES)
  })

  it('rejects a limit that is not positive', () => {
    expect(() => table({}, { maxPeers: 0 })).toThrow(RangeError)
    expect(() => table({}, { maxBytes: -1 })).toThrow(RangeError)
  })
})

describe('peer tier lookups', () => {
  it(`tries at most ${MAX_FETCH_CANDIDATES} peers for a blob no peer has, however many summaries claim it`, async () => {
    const claimants = Array.from({ length: 40 }, (_, i) => `peer-${i}`)
    const asked: string[] = []
    const client = {
      async fetchInto (peer: string): Promise<FetchOutcome> { asked.push(peer); return 'not-found' }
    } as unknown as FetchClient
    const fetcher = new PeerFetcher({
      store: {} as BlobReader & BlobSink,
      availability: { candidates: () => claimants, advertised: () => 0 },
      client,
      book: new PeerBook({ maxStreamsPerPeer: 8, maxServeRatePerPeer: 0 }),
      logger: createLogger('test', { level: 'error' }),
      parallelThreshold: 16 * 1024 * 1024
    })
    const digest = digestOf(Buffer.from('nobody has this'))
    expect(await fetcher.fetchInto(digest, AbortSignal.timeout(5000))).toBe(false)
    expect(asked).toHaveLength(MAX_FETCH_CANDIDATES)
    expect(new Set(asked).size).toBe(MAX_FETCH_CANDIDATES)
  })

  it('rejects a candidate limit that is not a positive integer', () => {
    expect(() => new PeerFetcher({
      store: {} as BlobReader & BlobSink,
      availability: { candidates: () => [], advertised: () => 0 },
      client: {} as FetchClient,
      book: new PeerBook({ maxStreamsPerPeer: 8, maxServeRatePerPeer: 0 }),
      logger: createLogger('test', { level: 'error' }),
      parallelThreshold: 1,
      maxCandidates: 0
    })).toThrow(RangeError)
  })
})

describe('a node with more peers than summary slots', () => {
  const peers: BarePeer[] = []
  afterAll(async () => { await Promise.all(peers.map(async (p) => { await p.stop() })) })

  it('keeps one summary when allowed one, still counts what every peer advertises, and fetches from the kept peer', async () => {
    const data = randomBytes(10_000)
    const digest = digestOf(data)
    const a = await startBarePeer()
    const b = await startBarePeer()
    peers.push(a, b)
    await a.store.put(digest, data)
    await b.store.put(digest, data)
    const c = await startBarePeer({ peers: [a.p2p.addresses[0]!, b.p2p.addresses[0]!], p2p: { maxSummaryPeers: 1 } })
    peers.push(c)
    await waitFor(() => c.p2p.peers().filter((p) => p.connected && p.blobsAdvertised > 0).length === 2, 'both summaries to arrive')
    // A summary's count arrives with its first frame, its bits with the last: wait for those of the kept one.
    await waitFor(() => c.p2p.candidates(digest).length > 0, 'the kept summary to be complete')
    expect(c.p2p.candidates(digest)).toHaveLength(1)
    expect(await c.p2p.blobFetcher.fetchInto(digest, AbortSignal.timeout(10_000))).toBe(true)
    expect(await c.store.read(digest)).toEqual(data)
  })

  it('pauses the announcements of a peer whose summary it does not keep, and resumes them when a kept peer leaves', async () => {
    const a = await startBarePeer()
    const b = await startBarePeer()
    peers.push(a, b)
    const c = await startBarePeer({ peers: [a.p2p.addresses[0]!, b.p2p.addresses[0]!], p2p: { maxSummaryPeers: 1 } })
    peers.push(c)
    const status = (node: BarePeer, peerId: string): PeerStatus => node.p2p.peers().find((p) => p.peerId === peerId)!
    const ids = new Map<BarePeer, string>([[a, a.p2p.peerId], [b, b.p2p.peerId]])
    // Both summaries start arriving; only one is kept and the other sender is told to pause.
    await waitFor(() => [a, b].every((p) => status(c, ids.get(p)!)?.connected === true) &&
      [a, b].filter((p) => status(c, ids.get(p)!).summaryKept).length === 1 &&
      [a, b].filter((p) => status(c, ids.get(p)!).announcementsPausedByUs).length === 1, 'one summary kept and the other sender paused')
    const kept = status(c, a.p2p.peerId).summaryKept ? a : b
    const paused = kept === a ? b : a
    await waitFor(() => status(paused, c.p2p.peerId)?.announcementsPausedByPeer === true, 'the paused sender to learn it is paused')
    expect(status(kept, c.p2p.peerId).announcementsPausedByPeer).toBe(false)

    // New blobs: the kept peer announces its own, the paused one stays silent.
    const fromKept = randomBytes(5000)
    const fromPaused = randomBytes(5000)
    const advertisedBefore = status(c, ids.get(paused)!).blobsAdvertised
    await kept.store.put(digestOf(fromKept), fromKept)
    await paused.store.put(digestOf(fromPaused), fromPaused)
    await waitFor(() => c.p2p.candidates(digestOf(fromKept)).includes(ids.get(kept)!), 'the kept peer\'s delta')
    await new Promise((resolve) => setTimeout(resolve, 500)) // ten announce intervals
    expect(status(c, ids.get(paused)!).blobsAdvertised).toBe(advertisedBefore)
    expect(c.p2p.candidates(digestOf(fromPaused))).toEqual([])

    // The kept peer leaves: the paused one is asked back, sends a fresh summary (with the blob
    // written while it was paused) and is kept.
    await kept.stop()
    peers.splice(peers.indexOf(kept), 1)
    await waitFor(() => status(c, ids.get(paused)!).summaryKept && c.p2p.candidates(digestOf(fromPaused)).includes(ids.get(paused)!), 'the paused peer to be resumed and kept')
    expect(status(c, ids.get(paused)!).announcementsPausedByUs).toBe(false)
    await waitFor(() => status(paused, c.p2p.peerId)?.announcementsPausedByPeer === false, 'the resumed sender to learn it')
  })
})

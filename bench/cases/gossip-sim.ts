import { randomFillSync } from 'node:crypto'
import type { BenchCase, Figure } from '../lib/case.js'
import { BloomFilter } from '../lib/bloom.js'
import { round } from '../lib/stats.js'

/**
 * The availability-gossip model being simulated (in-process, no sockets). Each peer keeps a
 * Bloom-filter summary of its blobs and (1) re-publishes the whole summary every
 * `resummarizeMinutes`, (2) announces blobs added since its last announcement every
 * `announceSeconds` (one message, `announceEntryBytes` per blob: 32-byte hash + 8-byte size),
 * (3) delivers both over a gossip mesh where each message reaches every peer and each peer
 * receives about `meshDegree` copies (gossipsub-style flooding with duplicates), or directly when
 * the swarm is smaller than the mesh. Every peer stores every other peer's summary.
 */
export const GOSSIP_MODEL = {
  fpTarget: 0.01,
  announceSeconds: 2,
  resummarizeMinutes: 10,
  announceEntryBytes: 40,
  messageOverheadBytes: 64,
  meshDegree: 6,
  writesPerPeerPerSecond: [1, 10, 100]
} as const

/** One row of the simulation table. */
export interface GossipRow {
  peers: number
  blobsPerPeer: number
  writesPerSecond: number
  summaryBytes: number
  k: number
  measuredFpRate: number
  /** Probability that a lookup of a blob no peer has names at least one peer (wasted query). */
  lookupAnyFpRate: number
  messagesPerPeerPerMinute: number
  bytesPerPeerPerMinute: number
  summaryMemoryBytes: number
}

/** Measures a filter's false-positive rate empirically with `n` inserted and `probes` absent digests. */
function measureFpRate (n: number, probes: number): { filter: BloomFilter, fp: number } {
  const filter = BloomFilter.forCapacity(n, GOSSIP_MODEL.fpTarget)
  const batch = Buffer.allocUnsafe(32 * 65536)
  for (let at = 0; at < n; at += 65536) {
    randomFillSync(batch)
    const count = Math.min(65536, n - at)
    for (let i = 0; i < count; i++) filter.add(batch.subarray(i * 32, i * 32 + 32))
  }
  let hits = 0
  for (let at = 0; at < probes; at += 65536) {
    randomFillSync(batch)
    const count = Math.min(65536, probes - at)
    for (let i = 0; i < count; i++) if (filter.has(batch.subarray(i * 32, i * 32 + 32))) hits++
  }
  return { filter, fp: hits / probes }
}

/**
 * Discrete simulation of one minute of gossip for one peer's inbox: announcements are batched per
 * interval (Poisson arrivals), summaries amortised over their period.
 */
function simulateTraffic (peers: number, writesPerSecond: number, summaryBytes: number): { messages: number, bytes: number } {
  const others = peers - 1
  const copies = peers > GOSSIP_MODEL.meshDegree + 1 ? GOSSIP_MODEL.meshDegree : 1
  const intervals = 60 / GOSSIP_MODEL.announceSeconds
  let messages = 0
  let bytes = 0
  // Sample the senders (up to 50) and scale: identical peers, so this is exact in expectation.
  const sampled = Math.min(others, 50)
  for (let s = 0; s < sampled; s++) {
    for (let t = 0; t < intervals; t++) {
      const added = poisson(writesPerSecond * GOSSIP_MODEL.announceSeconds)
      if (added === 0) continue
      messages += copies
      bytes += copies * (GOSSIP_MODEL.messageOverheadBytes + added * GOSSIP_MODEL.announceEntryBytes)
    }
    const summariesPerMinute = 1 / GOSSIP_MODEL.resummarizeMinutes
    messages += copies * summariesPerMinute
    bytes += copies * summariesPerMinute * (GOSSIP_MODEL.messageOverheadBytes + summaryBytes)
  }
  const scale = others / Math.max(1, sampled)
  return { messages: messages * scale, bytes: bytes * scale }
}

function poisson (mean: number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian()))
  const limit = Math.exp(-mean)
  let k = 0
  let p = Math.random()
  while (p > limit) { k++; p *= Math.random() }
  return k
}

function gaussian (): number {
  return Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random())
}

/** Gossip of availability summaries for 5, 50 and 500 peers with 100k and 1M blobs each. */
export const gossipSimCase: BenchCase = {
  name: 'gossip-sim',
  keys: [],
  async run (ctx): Promise<Record<string, Figure>> {
    const probes = ctx.quick ? 200_000 : 1_000_000
    const rows: GossipRow[] = []
    for (const blobs of [100_000, 1_000_000]) {
      const { filter, fp } = measureFpRate(blobs, probes)
      ctx.log(`  summary of ${blobs} blobs: ${round(filter.byteLength / 1e6, 2)} MB, k=${filter.k}, measured FP ${round(fp * 100, 3)}% (theory ${round(filter.expectedFpRate(blobs) * 100, 3)}%) over ${probes} probes`)
      for (const peers of [5, 50, 500]) {
        for (const writes of GOSSIP_MODEL.writesPerPeerPerSecond) {
          const traffic = simulateTraffic(peers, writes, filter.byteLength)
          const row: GossipRow = {
            peers,
            blobsPerPeer: blobs,
            writesPerSecond: writes,
            summaryBytes: filter.byteLength,
            k: filter.k,
            measuredFpRate: round(fp, 5),
            lookupAnyFpRate: round(1 - (1 - fp) ** (peers - 1), 4),
            messagesPerPeerPerMinute: round(traffic.messages, 0),
            bytesPerPeerPerMinute: round(traffic.bytes, 0),
            summaryMemoryBytes: (peers - 1) * filter.byteLength
          }
          rows.push(row)
          ctx.log(`  ${String(peers).padStart(3)} peers × ${blobs} blobs, ${writes} writes/s: ${row.messagesPerPeerPerMinute} msgs/min, ${round(row.bytesPerPeerPerMinute / 1e6, 2)} MB/min in, summaries ${round(row.summaryMemoryBytes / 1e6, 1)} MB, P(lookup hits ≥1 false peer) ${round(row.lookupAnyFpRate * 100, 1)}%`)
        }
      }
    }
    ctx.detail.gossip = { model: GOSSIP_MODEL, rows }
    return {}
  }
}

import type { BenchCase, Figure } from '../lib/case.js'
import { round } from '../lib/stats.js'
import { measureSummaryFpRate } from './p2p.js'
import { BloomFilter, bloomParamsFor } from '../../node/p2p/summary.js'
import {
  MAX_FETCH_CANDIDATES, MAX_SUMMARY_MEMORY_BYTES, MAX_SUMMARY_PEERS, SUMMARY_FALSE_POSITIVE_RATE, SUMMARY_HEADROOM
} from '../../node/p2p/constants.js'

/**
 * The availability gossip as node/p2p implements it (in-process model, no sockets). Each peer
 * summarises its blobs in the real Bloom filter (node/p2p/summary.ts), built for
 * SUMMARY_HEADROOM × its blobs and re-sent every `resummarizeMinutes`; it announces blobs added
 * since its last announcement every `announceSeconds` (one delta frame, `announceEntryBytes` per
 * blob: CID + size), directly to each peer that keeps its summary (one copy each — no relaying).
 * A receiver keeps at most MAX_SUMMARY_PEERS summaries (and MAX_SUMMARY_MEMORY_BYTES) and pauses
 * every other sender (/peercas/avail/1.1.0), and a lookup tries at most MAX_FETCH_CANDIDATES of
 * the peers its kept summaries name.
 */
export const GOSSIP_MODEL = {
  fpTarget: SUMMARY_FALSE_POSITIVE_RATE,
  headroom: SUMMARY_HEADROOM,
  announceSeconds: 2,
  resummarizeMinutes: 10,
  announceEntryBytes: 40,
  messageOverheadBytes: 64,
  maxSummaryPeers: MAX_SUMMARY_PEERS,
  maxSummaryMemoryBytes: MAX_SUMMARY_MEMORY_BYTES,
  maxFetchCandidates: MAX_FETCH_CANDIDATES,
  writesPerPeerPerSecond: [1, 10, 100]
} as const

/** One row of the simulation table. */
export interface GossipRow {
  peers: number
  blobsPerPeer: number
  writesPerSecond: number
  /** Bytes of one summary as built (with headroom). */
  summaryBytes: number
  k: number
  /** Measured FP rate of one summary at its capacity (the worst case, before a re-summarise). */
  measuredFpRate: number
  /** Summaries a node keeps (≤ MAX_SUMMARY_PEERS and the memory bound). */
  keptSummaries: number
  /** Probability that a lookup of a blob no peer has names at least one peer (wasted query). */
  lookupAnyFpRate: number
  /** Expected round trips wasted by such a lookup (≤ MAX_FETCH_CANDIDATES). */
  missRoundTrips: number
  /** Most round trips such a lookup can cost. */
  missRoundTripsMax: number
  /** Delta frames each node sends per announce interval in which it wrote something. */
  framesSentPerInterval: number
  messagesPerPeerPerMinute: number
  bytesPerPeerPerMinute: number
  summaryMemoryBytes: number
  /** What holding every peer's summary would cost (the design before the bound). */
  unboundedMemoryBytes: number
}

/** Measures the real summary's false-positive rate at its capacity, with `probes` absent digests. */
function measureFpRate (n: number, probes: number): { asBuilt: BloomFilter, fp: number } {
  const fp = measureSummaryFpRate(new BloomFilter(bloomParamsFor(n)), n, probes)
  return { asBuilt: new BloomFilter(bloomParamsFor(Math.ceil(n * SUMMARY_HEADROOM))), fp }
}

/** E[min(X, k)] for X ~ Binomial(n, p): expected peers tried for a blob none of them has. */
function expectedCappedFalsePositives (n: number, p: number, k: number): number {
  let expected = 0
  let pmf = (1 - p) ** n
  for (let x = 0; x <= n; x++) {
    expected += Math.min(x, k) * pmf
    pmf = pmf * (n - x) / (x + 1) * (p / (1 - p))
  }
  return expected
}

/**
 * Discrete simulation of one minute of gossip for one peer's inbox: announcements are batched per
 * interval (Poisson arrivals), summaries amortised over their period.
 */
function simulateTraffic (senders: number, writesPerSecond: number, summaryBytes: number): { messages: number, bytes: number } {
  const others = senders
  // Direct protocol: one copy from each peer (no mesh duplicates). Every peer still sends to
  // every connected peer; a receiver that does not keep a sender's summary drops it.
  const copies = 1
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
      const { asBuilt, fp } = measureFpRate(blobs, probes)
      ctx.log(`  summary of ${blobs} blobs: ${round(asBuilt.byteLength / 1e6, 2)} MB as built, k=${asBuilt.hashes}, measured FP at capacity ${round(fp * 100, 3)}% over ${probes} probes`)
      for (const peers of [5, 50, 500]) {
        const kept = Math.min(peers - 1, MAX_SUMMARY_PEERS, Math.floor(MAX_SUMMARY_MEMORY_BYTES / asBuilt.byteLength))
        for (const writes of GOSSIP_MODEL.writesPerPeerPerSecond) {
          // Only the senders whose summaries are kept keep sending; the others are paused.
          const traffic = simulateTraffic(kept, writes, asBuilt.byteLength)
          const row: GossipRow = {
            peers,
            blobsPerPeer: blobs,
            writesPerSecond: writes,
            summaryBytes: asBuilt.byteLength,
            k: asBuilt.hashes,
            measuredFpRate: round(fp, 5),
            keptSummaries: kept,
            lookupAnyFpRate: round(1 - (1 - fp) ** kept, 4),
            missRoundTrips: round(expectedCappedFalsePositives(kept, fp, MAX_FETCH_CANDIDATES), 3),
            missRoundTripsMax: Math.min(kept, MAX_FETCH_CANDIDATES),
            framesSentPerInterval: kept,
            messagesPerPeerPerMinute: round(traffic.messages, 0),
            bytesPerPeerPerMinute: round(traffic.bytes, 0),
            summaryMemoryBytes: kept * asBuilt.byteLength,
            unboundedMemoryBytes: (peers - 1) * asBuilt.byteLength
          }
          rows.push(row)
          ctx.log(`  ${String(peers).padStart(3)} peers × ${blobs} blobs, ${writes} writes/s: ${row.messagesPerPeerPerMinute} msgs/min, ${round(row.bytesPerPeerPerMinute / 1e6, 2)} MB/min in, ${kept} summaries kept = ${round(row.summaryMemoryBytes / 1e6, 1)} MB (unbounded ${round(row.unboundedMemoryBytes / 1e6, 0)} MB), P(miss names ≥1 peer) ${round(row.lookupAnyFpRate * 100, 2)}%, wasted round trips per miss ${row.missRoundTrips} (max ${row.missRoundTripsMax})`)
        }
      }
    }
    ctx.detail.gossip = { model: GOSSIP_MODEL, rows }
    return {}
  }
}

import { BAN_BASE_MS, BAN_MAX_MS, SLOW_COOLDOWN_BASE_MS, SLOW_COOLDOWN_MAX_MS } from './constants.js'
import { Semaphore, TokenBucket } from '../limits/index.js'

/** What this node knows and measures about one peer. */
export interface PeerRecord {
  readonly peerId: string
  bytesFetchedFrom: number
  bytesServedTo: number
  /** Serving to this peer: streams open and bytes/s. */
  readonly serveStreams: Semaphore
  readonly serveRate: TokenBucket
  /** Exponentially weighted average of fetch throughput (bytes/s); undefined until measured. */
  throughput: number | undefined
  /**
   * Exponentially weighted average of time to first answer (ms), failures counted as the time
   * waited (at least the answer timeout); undefined until the peer was asked once.
   */
  latencyMs: number | undefined
  strikes: number
  bannedUntil: number
  /** Failed or stalled attempts in a row (reset by an answer). */
  slowStrikes: number
  /** Not asked before this time (ms since epoch): it stalled or failed recently. Not a ban. */
  coolingUntil: number
}

/** Options of {@link PeerBook}. */
export interface PeerBookInit {
  maxStreamsPerPeer: number
  maxServeRatePerPeer: number
  /** @default Date.now */
  now?: () => number
}

/** Assumed for a peer not measured yet: a LAN peer (≈ 100 MB/s, 2 ms). */
const PRIOR_THROUGHPUT = 100e6
const PRIOR_LATENCY_MS = 2
const EWMA_WEIGHT = 0.3

/**
 * Per-peer counters, measurements, limits and bans. Bans double with each offence
 * ({@link BAN_BASE_MS} up to {@link BAN_MAX_MS}); each {@link BAN_MAX_MS} without an offence
 * after a ban ends forgives one strike, so an honest node whose disk once corrupted a blob
 * (it quarantines the file: see LocalStore) is not banned for an hour at its next slip.
 */
export class PeerBook {
  private readonly records = new Map<string, PeerRecord>()
  private readonly now: () => number

  constructor (private readonly init: PeerBookInit) {
    this.now = init.now ?? Date.now
  }

  /** The record of a peer, created on first use. */
  get (peerId: string): PeerRecord {
    let record = this.records.get(peerId)
    if (record === undefined) {
      record = {
        peerId,
        bytesFetchedFrom: 0,
        bytesServedTo: 0,
        serveStreams: new Semaphore(this.init.maxStreamsPerPeer),
        serveRate: new TokenBucket(this.init.maxServeRatePerPeer),
        throughput: undefined,
        latencyMs: undefined,
        strikes: 0,
        bannedUntil: 0,
        slowStrikes: 0,
        coolingUntil: 0
      }
      this.records.set(peerId, record)
    }
    return record
  }

  /** Every peer with a record. */
  all (): PeerRecord[] { return [...this.records.values()] }

  /** True while the peer is banned. */
  isBanned (peerId: string): boolean {
    return (this.records.get(peerId)?.bannedUntil ?? 0) > this.now()
  }

  /** Bans a peer for sending wrong bytes; returns the ban's end (ms since epoch). */
  ban (peerId: string): number {
    const record = this.get(peerId)
    const sinceBan = this.now() - record.bannedUntil
    if (record.strikes > 0 && sinceBan > 0) record.strikes = Math.max(0, record.strikes - Math.floor(sinceBan / BAN_MAX_MS))
    record.strikes++
    record.bannedUntil = this.now() + Math.min(BAN_MAX_MS, BAN_BASE_MS * 2 ** (record.strikes - 1))
    return record.bannedUntil
  }

  /** True while a peer that stalled or failed recently is skipped ({@link penalize}). */
  isCoolingDown (peerId: string): boolean {
    return (this.records.get(peerId)?.coolingUntil ?? 0) > this.now()
  }

  /** Records a peer's first answer to a request (any status) after `firstByteMs`. */
  recordAnswer (peerId: string, firstByteMs: number): void {
    const record = this.get(peerId)
    record.latencyMs = ewma(record.latencyMs, firstByteMs)
    record.slowStrikes = 0
  }

  /**
   * Records a stall, timeout or transport error after waiting `waitedMs`: the wait is folded into
   * the latency average (so the peer ranks behind peers that answer), and the peer cools down
   * for {@link SLOW_COOLDOWN_BASE_MS}, doubling per failure in a row up to
   * {@link SLOW_COOLDOWN_MAX_MS}. Returns the cool-down's end (ms since epoch).
   */
  penalize (peerId: string, waitedMs: number): number {
    const record = this.get(peerId)
    record.latencyMs = ewma(record.latencyMs, waitedMs)
    record.slowStrikes++
    record.coolingUntil = this.now() + Math.min(SLOW_COOLDOWN_MAX_MS, SLOW_COOLDOWN_BASE_MS * 2 ** (record.slowStrikes - 1))
    return record.coolingUntil
  }

  /** Records one completed transfer from a peer (its latency is recorded by {@link recordAnswer}). */
  recordFetch (peerId: string, bytes: number, totalMs: number): void {
    const record = this.get(peerId)
    record.bytesFetchedFrom += bytes
    // Tiny transfers say nothing about bandwidth.
    if (bytes >= 256 * 1024 && totalMs > 0) record.throughput = ewma(record.throughput, bytes / (totalMs / 1000))
  }

  /** Expected milliseconds to fetch `sizeBytes` from a peer; lower is better. */
  expectedMs (peerId: string, sizeBytes: number): number {
    const record = this.records.get(peerId)
    return (record?.latencyMs ?? PRIOR_LATENCY_MS) + sizeBytes / (record?.throughput ?? PRIOR_THROUGHPUT) * 1000
  }
}

function ewma (previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous * (1 - EWMA_WEIGHT) + sample * EWMA_WEIGHT
}

import { MAX_SUMMARY_MEMORY_BYTES, MAX_SUMMARY_PEERS } from './constants.js'
import { BloomFilter, checkBloomParams, type BloomParams } from './summary.js'

/** Options of {@link SummaryTable}. */
export interface SummaryTableInit {
  /**
   * Cost of a peer, lower is better (expected ms to fetch a typical blob from it;
   * `Infinity` for a banned peer). Read at each admission decision.
   */
  cost(peerId: string): number
  /** Most peers whose summaries are kept. @default {@link MAX_SUMMARY_PEERS} */
  maxPeers?: number
  /** Most bytes of summaries kept (including ones being received). @default {@link MAX_SUMMARY_MEMORY_BYTES} */
  maxBytes?: number
  /** Called for each peer whose summary {@link SummaryTable.admit} evicts to make room. */
  onEvict?: (peerId: string) => void
}

/** One peer's summary, complete or still arriving. */
export interface SummarySlot {
  readonly peerId: string
  readonly filter: BloomFilter
  /** False while its parts are still arriving: not consulted for candidates yet. */
  complete: boolean
}

/**
 * The peers' availability summaries this node keeps in memory, bounded in count
 * ({@link MAX_SUMMARY_PEERS}) and bytes ({@link MAX_SUMMARY_MEMORY_BYTES}). A summary is admitted
 * when it starts arriving — before its bit array is allocated — if there is room, or if its peer
 * is cheaper to fetch from than the kept peers it would evict, most expensive first (strictly
 * cheaper only, so kept peers are not churned by equals). A peer whose summary is not kept is no fetch candidate until
 * its next summary (sent at least every re-summarise interval) wins a slot.
 */
export class SummaryTable {
  private readonly slots = new Map<string, SummarySlot>()
  private bytes = 0
  private readonly maxPeers: number
  private readonly maxBytes: number

  constructor (private readonly init: SummaryTableInit) {
    this.maxPeers = init.maxPeers ?? MAX_SUMMARY_PEERS
    this.maxBytes = init.maxBytes ?? MAX_SUMMARY_MEMORY_BYTES
    if (!(Number.isInteger(this.maxPeers) && this.maxPeers >= 1)) throw new RangeError(`maxPeers must be a positive integer, got ${this.maxPeers}`)
    if (!(this.maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${this.maxBytes}`)
  }

  /** Peers whose summaries are kept (complete or arriving). */
  get size (): number { return this.slots.size }

  /** Summaries that could still be added without evicting any (by count). */
  get freeSlots (): number { return Math.max(0, this.maxPeers - this.slots.size) }

  /** Bytes that could still be kept without evicting any. */
  get freeBytes (): number { return Math.max(0, this.maxBytes - this.bytes) }

  /** Bytes of bit arrays kept (complete or arriving). */
  get byteLength (): number { return this.bytes }

  /**
   * Makes room for a summary from `peerId` with `params`, evicting the most expensive kept peers
   * if `peerId` is cheaper than each of them, and installs an empty, incomplete slot for it
   * (replacing its previous summary: the peer is no candidate until the new one is complete).
   * `undefined` if it is not kept: the caller reads its parts and drops them. Nothing is
   * allocated unless the summary is kept. Throws UnsupportedSummaryError for invalid params.
   */
  admit (peerId: string, params: BloomParams): SummarySlot | undefined {
    checkBloomParams(params)
    const byteLength = params.bits / 8
    this.delete(peerId)
    const victims = this.victimsFor(() => this.init.cost(peerId), byteLength)
    if (victims === undefined) return undefined
    for (const victim of victims) {
      this.delete(victim.peerId)
      this.init.onEvict?.(victim.peerId)
    }
    const slot: SummarySlot = { peerId, filter: new BloomFilter(params), complete: false }
    this.slots.set(peerId, slot)
    this.bytes += byteLength
    return slot
  }

  /**
   * Whether a summary of `byteLength` bytes from a peer of `cost` would be admitted now: there is
   * room, or it is strictly cheaper than kept peers it could evict. (Same rule as {@link admit}.)
   */
  wouldAdmit (cost: number, byteLength: number): boolean {
    return this.victimsFor(() => cost, byteLength) !== undefined
  }

  /**
   * The kept slots a summary of `byteLength` bytes would evict (most expensive first; none when
   * there is room), or `undefined` if it would not be kept: too large, or not strictly cheaper
   * than every peer it would have to evict. `cost` is only asked for when eviction is needed.
   */
  private victimsFor (cost: () => number, byteLength: number): SummarySlot[] | undefined {
    if (byteLength > this.maxBytes) return undefined
    let count = this.slots.size
    let bytes = this.bytes
    const fits = (): boolean => count < this.maxPeers && bytes + byteLength <= this.maxBytes
    if (fits()) return []
    const newcomer = cost()
    const byCostDescending = [...this.slots.values()]
      .map((slot) => ({ slot, cost: this.init.cost(slot.peerId) }))
      .sort((a, b) => b.cost - a.cost)
    const victims: SummarySlot[] = []
    for (const { slot, cost: victimCost } of byCostDescending) {
      if (!(newcomer < victimCost)) return undefined
      victims.push(slot)
      count--
      bytes -= slot.filter.byteLength
      if (fits()) return victims
    }
    return undefined
  }

  /** The kept slot of a peer, if any. */
  get (peerId: string): SummarySlot | undefined { return this.slots.get(peerId) }

  /** True while `slot` is the one kept for its peer (an evicted slot stops receiving parts). */
  holds (slot: SummarySlot): boolean { return this.slots.get(slot.peerId) === slot }

  /** Forgets a peer's summary (disconnect, eviction). */
  delete (peerId: string): void {
    const slot = this.slots.get(peerId)
    if (slot === undefined) return
    this.slots.delete(peerId)
    this.bytes -= slot.filter.byteLength
  }

  /** Peers whose complete summary may hold `hash`. */
  candidates (hash: string): string[] {
    const out: string[] = []
    for (const slot of this.slots.values()) if (slot.complete && slot.filter.has(hash)) out.push(slot.peerId)
    return out
  }
}

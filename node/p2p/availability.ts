import type { Libp2p } from 'libp2p'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { BlobCatalog, SublevelProvider } from '../store/index.js'
import type { Sublevel } from '../store/index-db.js'
import {
  AVAILABILITY_CONTROL_STALL_MS, AVAILABILITY_CONTROLLED_PROTOCOL, AVAILABILITY_OPEN_TIMEOUT_MS, AVAILABILITY_PROTOCOL,
  MAX_CONTROL_FRAME_BYTES, MAX_DELTA_ENTRIES, MIN_RESUMED_SUMMARY_INTERVAL_MS, MIN_RESUMMARIZE_MS, PAUSED_SENDER_REVIEW_MS,
  RETRY_OUTBOUND_MS, SUMMARY_HEADROOM, SUMMARY_PART_BYTES, SUMMARY_RETRY_MAX_MS, SUMMARY_RETRY_MIN_MS
} from './constants.js'
import { Backoff, sleep } from '../limits/index.js'
import { SummaryTable, type SummarySlot } from './summary-table.js'
import { fromBlobRef, toBlobRef } from './cid.js'
import { MalformedFrameError, UnsupportedSummaryError } from './errors.js'
import { StreamReader, sendFrame } from './framing.js'
import { messages, type AvailabilityMessage } from './messages.js'
import { BloomFilter, bitsPerKey, bloomParamsFor, SUMMARY_VERSION } from './summary.js'

/** What {@link Availability} needs. */
export interface AvailabilityInit {
  libp2p: Libp2p
  store: BlobCatalog & SublevelProvider
  logger: Logger
  /** Batch new blobs into one delta per peer this often. */
  announceIntervalMs: number
  /** Rebuild the summary from the store this often (reflects evictions). */
  resummarizeIntervalMs: number
  /**
   * Expected ms to fetch a typical blob from a peer (Infinity when banned): which peers'
   * summaries are kept when there are more than {@link MAX_SUMMARY_PEERS}.
   */
  peerCost(peerId: string): number
  /** @default {@link MAX_SUMMARY_PEERS} */
  maxSummaryPeers?: number
  /** @default {@link MAX_SUMMARY_MEMORY_BYTES} */
  maxSummaryBytes?: number
  /** @default {@link PAUSED_SENDER_REVIEW_MS} */
  pausedSenderReviewMs?: number
}

/** Answers "which peers may hold this digest?" from memory. */
export interface AvailabilityIndex {
  /** Connected peers whose kept summary says they may hold `hash`. */
  candidates(hash: string): string[]
  /** Blobs a peer advertised (summary count plus deltas). */
  advertised(peerId: string): number
}

/** Our push stream to one peer. */
interface Outbound {
  stream: Stream
  queue: Digest[]
  needsSummary: boolean
  sending: boolean
  /** The peer does not keep our summary and asked us to send nothing (1.1.0) until it asks again. */
  paused: boolean
  /** When we last started sending it a summary (ms since epoch). */
  lastSummaryAt: number
}

/** A peer's push stream to us. */
interface Inbound {
  stream: Stream
  /** Spoken with 1.1.0: we can ask the sender to pause and resume. */
  controllable: boolean
  /** We asked it to pause (its summary is not kept). */
  paused: boolean
  /** Size of the last summary it started, to judge whether it would be kept now. */
  summaryBytes: number
}

/** Sublevel of the store holding our summary as saved at a clean stop, under {@link SAVED_SUMMARY_KEY}. */
const SAVED_SUMMARY_SUBLEVEL = 'avail'
const SAVED_SUMMARY_KEY = 'local'
/** Version of the saved-summary record (see {@link encodeSavedSummary}); bump it with any change to how {@link BloomFilter} places keys. */
const SAVED_SUMMARY_FORMAT = 1

/** What is saved with our summary at a clean stop (before the filter's bytes). */
interface SavedSummaryHeader {
  format: number
  /** The store's session, additions and removals when it was saved (see {@link StoreStop}). */
  session: string
  additions: number
  removals: number
  bits: number
  hashes: number
  capacity: number
  /** Blobs the filter holds (at its build plus added since). */
  count: number
  /** No blob left the store since the filter was built: it holds no stale entries. */
  exact: boolean
}

/** Deltas queued for a slow peer beyond this are dropped in favour of a fresh summary. */
const MAX_QUEUED_DELTA_ENTRIES = 16 * MAX_DELTA_ENTRIES
/** An AvailabilityControl frame is one bool: anything longer is a malformed frame. */
const MAX_AVAILABILITY_CONTROL_BYTES = 16

/**
 * Availability gossip over a direct, one-way stream per peer (/peercas/avail/1.0.0): on connect
 * the full summary (a Bloom filter of our CAS), then batched deltas of new blobs every announce
 * interval, then a fresh summary after each re-summarise (which drops evicted blobs).
 *
 * With /peercas/avail/1.1.0 (preferred, both ways) the receiver answers on the same stream: a
 * sender whose summary it does not keep (see {@link SummaryTable}) is asked to pause and then sends
 * nothing — no parts, deltas or re-summaries — so what a node receives is bounded by the peers it
 * keeps, not by how many are connected. Every {@link PAUSED_SENDER_REVIEW_MS} (and when a peer
 * leaves) paused senders that would now be kept are asked to resume with a fresh summary.
 */
export class Availability implements AvailabilityIndex {
  private local: BloomFilter = new BloomFilter(bloomParamsFor(0))
  private generation = 0
  private capacity = 0
  private addedSinceSummary = 0
  private countAtSummary = 0
  private lastSummaryAt = 0
  /** The store's removal count when the filter was built, or -1 when it may hold blobs removed before (loaded stale). */
  private removalsAtBuild = 0
  /** Blobs the store told us it added (every one since {@link start}). */
  private observedAdditions = 0
  private saved: Sublevel | undefined
  /** False until the first summary is built: nothing is sent to peers before. */
  private built = false
  private firstSummary: Promise<void> = Promise.resolve()
  private rebuilding: Digest[] | undefined
  private rebuild: Promise<void> | undefined
  private pending: Digest[] = []
  private readonly outbound = new Map<string, Outbound>()
  private readonly inbound = new Map<string, Inbound>()
  private readonly opening = new Map<string, number>()
  private readonly remote: SummaryTable
  /** Blobs each connected peer advertised, whether or not its summary is kept (for status). */
  private readonly advertisedBy = new Map<string, number>()
  private readonly timers: NodeJS.Timeout[] = []
  private stopped = false
  private readonly log: Logger

  constructor (private readonly init: AvailabilityInit) {
    this.log = init.logger
    this.remote = new SummaryTable({ cost: init.peerCost, maxPeers: init.maxSummaryPeers, maxBytes: init.maxSummaryBytes, onEvict: (peer) => { this.pauseSender(peer) } })
  }

  /**
   * Registers the protocol and starts building the first summary in the background (with a
   * million blobs that takes seconds; the node is ready meanwhile). Call before the host starts.
   * Until the summary is built, peers are sent nothing — no summary that lacks stored blobs —
   * and blobs added meanwhile are recorded in it.
   */
  async start (): Promise<void> {
    // Before the build starts, so a blob added while it runs is in it (its cursor may be past it).
    this.init.store.onBlobAdded((digest) => { this.onLocalBlob(digest) })
    await this.init.libp2p.handle([AVAILABILITY_CONTROLLED_PROTOCOL, AVAILABILITY_PROTOCOL], (stream, connection) => { void this.receive(stream, connection) }, { maxInboundStreams: 2, maxOutboundStreams: 2 })
    this.init.libp2p.addEventListener('peer:connect', (event) => { this.openOutbound(event.detail) })
    this.init.libp2p.addEventListener('peer:disconnect', (event) => {
      const peer = event.detail.toString()
      this.remote.delete(peer)
      this.advertisedBy.delete(peer)
      this.outbound.delete(peer)
      this.opening.delete(peer)
      this.inbound.delete(peer)
      // A kept peer leaving makes room for a paused one.
      this.reviewPausedSenders()
    })
    this.timers.push(setInterval(() => { this.flush() }, this.init.announceIntervalMs))
    this.timers.push(setInterval(() => { void this.resummarizeIfDue(true) }, Math.max(1000, this.init.resummarizeIntervalMs)))
    this.timers.push(setInterval(() => { this.reviewPausedSenders() }, this.init.pausedSenderReviewMs ?? PAUSED_SENDER_REVIEW_MS))
    for (const timer of this.timers) timer.unref()
    this.firstSummary = this.buildFirstSummary()
  }

  /** Resolves once the first summary is built (and sent to connected peers). */
  async ready (): Promise<void> { await this.firstSummary }

  private async buildFirstSummary (): Promise<void> {
    try {
      if (await this.loadSaved()) return
    } catch (error) {
      this.log.warn('cannot read the availability summary saved at the last stop; building it', { error })
    }
    // Retried: until it succeeds peers get no summary at all, rather than a wrong one.
    const backoff = new Backoff({ baseMs: SUMMARY_RETRY_MIN_MS, maxMs: SUMMARY_RETRY_MAX_MS, jitter: 0 })
    while (!this.stopped) {
      try {
        await this.resummarize()
        return
      } catch (error) {
        this.log.warn('building the availability summary failed; retrying', { error })
        await sleep(backoff.next(), undefined, { ref: false })
      }
    }
  }

  /**
   * Stops timers (streams close with the host) and saves our summary in the store, so that the
   * next start after a clean stop loads it instead of reading the whole index again. It is
   * trusted then only if the store recorded the same additions and removals at its clean stop
   * (see {@link StoreStop}): a blob added after this save, a crash, or a run of the store
   * without this layer makes the next start build it from the store.
   */
  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    // Blobs added from now on are not added to the filter: the store must stop relying on it.
    this.init.store.setMembershipFilter(undefined)
    for (const timer of this.timers) clearInterval(timer)
    if (!this.built) return
    // Blobs are no longer added to the filter from here on: the store's counters are read with it.
    const store = this.init.store
    const header: SavedSummaryHeader = {
      format: SAVED_SUMMARY_FORMAT,
      session: store.session,
      additions: store.additions,
      removals: store.removals,
      bits: this.local.bits,
      hashes: this.local.hashes,
      capacity: this.capacity,
      count: this.countAtSummary + this.addedSinceSummary,
      exact: !this.stale()
    }
    try {
      await this.savedSummaries().put(SAVED_SUMMARY_KEY, encodeSavedSummary(header, this.local.data))
    } catch (error) {
      this.log.warn('cannot save the availability summary; the next start builds it from the store', { error })
    }
  }

  /**
   * Takes the summary saved at the last clean stop when it still describes the store (see
   * {@link stop}); resolves false, having changed nothing, when there is none or it does not.
   */
  private async loadSaved (): Promise<boolean> {
    const store = this.init.store
    const previous = store.previousStop
    if (previous === undefined) return false
    // Blobs added while it is read go into it afterwards, as during a build.
    this.rebuilding = []
    try {
      const record = await this.savedSummaries().get(SAVED_SUMMARY_KEY)
      if (record === undefined || this.stopped) return false
      const saved = decodeSavedSummary(record)
      if (saved === undefined) return false
      const { header } = saved
      if (header.session !== previous.session || header.additions !== previous.additions || header.removals !== previous.removals) {
        this.log.debug('the saved availability summary is older than the store; building it', { saved: header.session, stopped: previous.session })
        return false
      }
      const filter = new BloomFilter({ bits: header.bits, hashes: header.hashes }, saved.data)
      // A blob added before we listened (none when the node starts us first) is in neither.
      if (store.additions !== this.observedAdditions) return false
      for (const digest of this.rebuilding) filter.add(digest.hash)
      this.install(filter, header.capacity, header.count, this.rebuilding.length)
      // Removals by this opening, if any yet, make it stale as well.
      this.removalsAtBuild = header.exact ? 0 : -1
      this.log.debug('loaded availability summary', { blobs: header.count, bytes: filter.byteLength, hashes: filter.hashes, generation: this.generation })
    } finally {
      this.rebuilding = undefined
    }
    this.publish()
    return true
  }

  candidates (hash: string): string[] {
    return this.remote.candidates(hash)
  }

  advertised (peerId: string): number {
    return this.advertisedBy.get(peerId) ?? 0
  }

  /** Whether we keep `peerId`'s summary (complete or arriving). */
  keepsSummaryOf (peerId: string): boolean {
    return this.remote.get(peerId) !== undefined
  }

  /** Connected peers that asked us to pause, and peers we asked to pause (for tests and status). */
  get paused (): { bySenders: string[], byUs: string[] } {
    return {
      bySenders: [...this.outbound].filter(([, out]) => out.paused).map(([peer]) => peer),
      byUs: [...this.inbound].filter(([, inbound]) => inbound.paused).map(([peer]) => peer)
    }
  }

  /**
   * Rebuilds the local summary from the store and re-sends it to every peer. While a rebuild
   * runs, a call waits for that one.
   */
  async resummarize (): Promise<void> {
    this.rebuild ??= this.rebuildNow().finally(() => { this.rebuild = undefined })
    await this.rebuild
  }

  private async rebuildNow (): Promise<void> {
    this.rebuilding = []
    try {
      const removals = this.init.store.removals
      const count = this.init.store.stats().blobCount
      const capacity = Math.ceil(count * SUMMARY_HEADROOM)
      const filter = new BloomFilter(bloomParamsFor(capacity))
      let n = 0
      for await (const digest of this.init.store.digests()) {
        filter.add(digest.hash)
        n++
        if (this.stopped) return
      }
      // Blobs that arrived while we iterated may be past our cursor.
      for (const digest of this.rebuilding) filter.add(digest.hash)
      this.install(filter, Math.max(capacity, Math.floor(filter.bits / bitsPerKey())), n, 0)
      this.removalsAtBuild = removals
      this.log.debug('built availability summary', { blobs: n, bytes: filter.byteLength, hashes: filter.hashes, generation: this.generation })
    } finally {
      this.rebuilding = undefined
    }
    this.publish()
  }

  /**
   * Makes `filter` our summary, as a new generation; the first one also becomes the store's
   * membership filter (it holds every stored blob, and every blob added from now on is added).
   */
  private install (filter: BloomFilter, capacity: number, count: number, addedSince: number): void {
    if (!this.built) this.init.store.setMembershipFilter((hash) => this.local.has(hash))
    this.local = filter
    this.capacity = capacity
    this.addedSinceSummary = addedSince
    this.countAtSummary = count
    this.generation++
    this.lastSummaryAt = Date.now()
    this.built = true
  }

  private savedSummaries (): Sublevel {
    this.saved ??= this.init.store.sublevel(SAVED_SUMMARY_SUBLEVEL)
    return this.saved
  }

  /** Whether the filter may name blobs that have left the store since it was built. */
  private stale (): boolean {
    return this.removalsAtBuild < 0 || this.init.store.removals !== this.removalsAtBuild
  }

  /** Sends the current summary to every peer not paused. */
  private publish (): void {
    for (const out of this.outbound.values()) {
      if (out.paused) continue
      out.needsSummary = true
      out.queue = []
      this.kick(out)
    }
  }

  private async resummarizeIfDue (periodic: boolean): Promise<void> {
    if (this.stopped || !this.built) return
    const full = this.countAtSummary + this.addedSinceSummary > this.capacity
    if (!periodic && (!full || Date.now() - this.lastSummaryAt < MIN_RESUMMARIZE_MS)) return
    if (periodic && !full && !this.stale() && this.rebuild === undefined) {
      // Nothing left the store since the build and every blob added is in the filter: reading
      // the whole index again (seconds and hundreds of MB of mapped tables at millions of
      // blobs) would build the same filter. Send it again as a new generation instead.
      this.generation++
      this.lastSummaryAt = Date.now()
      this.publish()
      return
    }
    await this.resummarize().catch((error) => { this.log.warn('re-summarising the store failed', { error }) })
  }

  private onLocalBlob (digest: Digest): void {
    this.observedAdditions++
    if (this.stopped) return
    this.local.add(digest.hash)
    this.rebuilding?.push(digest)
    this.addedSinceSummary++
    this.pending.push(digest)
    if (this.pending.length >= MAX_DELTA_ENTRIES) this.flush()
    if (this.countAtSummary + this.addedSinceSummary > this.capacity) void this.resummarizeIfDue(false)
  }

  /** Moves pending blobs into each peer's queue and sends; opens missing streams. */
  private flush (): void {
    if (this.stopped) return
    const batch = this.pending
    this.pending = []
    for (const connection of this.init.libp2p.getConnections()) {
      if (!this.outbound.has(connection.remotePeer.toString())) this.openOutbound(connection.remotePeer)
    }
    if (batch.length === 0) return
    for (const out of this.outbound.values()) {
      if (out.needsSummary || out.paused) continue
      out.queue.push(...batch)
      if (out.queue.length > MAX_QUEUED_DELTA_ENTRIES) {
        // A slow peer: one summary is cheaper than an ever-growing backlog.
        out.queue = []
        out.needsSummary = true
      }
      this.kick(out)
    }
  }

  private openOutbound (peer: PeerId): void {
    const key = peer.toString()
    if (this.stopped || this.outbound.has(key) || (this.opening.get(key) ?? 0) > Date.now()) return
    this.opening.set(key, Date.now() + RETRY_OUTBOUND_MS)
    void (async () => {
      try {
        const stream = await this.init.libp2p.dialProtocol(peer, [AVAILABILITY_CONTROLLED_PROTOCOL, AVAILABILITY_PROTOCOL], { signal: AbortSignal.timeout(AVAILABILITY_OPEN_TIMEOUT_MS) })
        const out: Outbound = { stream, queue: [], needsSummary: true, sending: false, paused: false, lastSummaryAt: 0 }
        this.outbound.set(key, out)
        stream.addEventListener('close', () => { if (this.outbound.get(key) === out) { this.outbound.delete(key); this.opening.delete(key) } })
        if (stream.protocol === AVAILABILITY_CONTROLLED_PROTOCOL) void this.readControl(key, out)
        this.kick(out)
      } catch (error) {
        this.log.debug('peer does not take availability announcements', { peer: key, error })
      }
    })()
  }

  /** Sends whatever a peer is owed, one frame at a time, honouring backpressure. */
  private kick (out: Outbound): void {
    // Before the first summary is built nothing is owed yet; building it kicks every stream.
    if (out.sending || !this.built) return
    out.sending = true
    void (async () => {
      try {
        while (!this.stopped && out.stream.status === 'open' && !out.paused && (out.needsSummary || out.queue.length > 0)) {
          if (out.needsSummary) {
            out.needsSummary = false
            out.queue = []
            await this.sendSummary(out)
            continue
          }
          const batch = out.queue.splice(0, MAX_DELTA_ENTRIES)
          await sendFrame(out.stream, messages.availability.encode({ delta: { generation: this.generation, added: batch.map(toBlobRef) } }))
        }
      } catch (error) {
        this.log.debug('availability stream to a peer failed', { error })
        out.stream.abort(error as Error)
      } finally {
        out.sending = false
      }
    })()
  }

  private async sendSummary (out: Outbound): Promise<void> {
    const stream = out.stream
    out.lastSummaryAt = Date.now()
    const filter = this.local
    const generation = this.generation
    await sendFrame(stream, messages.availability.encode({
      summaryStart: { version: SUMMARY_VERSION, generation, bits: filter.bits, hashes: filter.hashes, blobCount: this.init.store.stats().blobCount }
    }))
    for (let offset = 0; offset < filter.byteLength; offset += SUMMARY_PART_BYTES) {
      // Paused mid-summary: the rest would be dropped unread (a resume starts a new summary).
      if (out.paused) return
      // A copy: bits set while this part waits in the muxer would otherwise race the encoder.
      const data = filter.data.slice(offset, offset + SUMMARY_PART_BYTES)
      await sendFrame(stream, messages.availability.encode({ summaryPart: { generation, offset, data } }))
    }
  }

  /** Reads pause/resume requests a peer sends back on our 1.1.0 stream to it. */
  private async readControl (peer: string, out: Outbound): Promise<void> {
    const reader = new StreamReader(out.stream, { stallTimeoutMs: 0 })
    try {
      for (;;) {
        const bytes = await reader.readFrame(MAX_AVAILABILITY_CONTROL_BYTES)
        if (bytes === undefined) return
        const { wanted } = messages.availabilityControl.decode(bytes)
        if (!wanted) {
          out.paused = true
          out.needsSummary = false
          out.queue = []
          this.log.debug('peer does not keep our summary; pausing announcements to it', { peer })
        } else if (out.paused) {
          out.paused = false
          this.log.debug('peer asked for our summary again', { peer })
          // A peer toggling pause and resume gets at most one full summary per interval.
          const wait = out.lastSummaryAt + MIN_RESUMED_SUMMARY_INTERVAL_MS - Date.now()
          if (wait > 0) await sleep(wait, undefined, { ref: false })
          if (!out.paused) {
            out.needsSummary = true
            this.kick(out)
          }
        }
      }
    } catch (error) {
      this.log.debug('bad control frame on an availability stream; closing it', { peer, error })
      out.stream.abort(error as Error)
    }
  }

  /** Asks a sender whose summary we do not keep to send nothing more (1.1.0 senders only). */
  private pauseSender (peer: string): void {
    const inbound = this.inbound.get(peer)
    if (inbound === undefined || !inbound.controllable || inbound.paused) return
    inbound.paused = true
    this.sendControl(peer, inbound, false)
  }

  private sendControl (peer: string, inbound: Inbound, wanted: boolean): void {
    sendFrame(inbound.stream, messages.availabilityControl.encode({ wanted }), { stallTimeoutMs: AVAILABILITY_CONTROL_STALL_MS }).catch((error) => {
      this.log.debug('could not send an availability control frame', { peer, wanted, error })
    })
  }

  /**
   * Asks paused senders to resume when their summary would now be kept: as many as there are
   * free slots, or else the cheapest one if it is cheaper than a kept peer (it then replaces it).
   */
  private reviewPausedSenders (): void {
    if (this.stopped) return
    const paused = [...this.inbound].filter(([, inbound]) => inbound.paused)
      .map(([peer, inbound]) => ({ peer, inbound, cost: this.init.peerCost(peer) }))
      .sort((a, b) => a.cost - b.cost)
    let slots = this.remote.freeSlots
    let bytes = this.remote.freeBytes
    for (const { peer, inbound, cost } of paused) {
      if (slots > 0) {
        // Room without evicting anyone: resume as many as fit, counting each one's summary.
        if (inbound.summaryBytes > bytes) continue
        slots--
        bytes -= inbound.summaryBytes
      } else {
        // Full: only the cheapest, and only if it would displace a kept peer.
        if (!this.remote.wouldAdmit(cost, inbound.summaryBytes)) break
        slots = -1
      }
      inbound.paused = false
      this.sendControl(peer, inbound, true)
      if (slots < 0) break
    }
  }

  /**
   * Reads a peer's summary and deltas until the stream ends; bad frames end the stream. A
   * summary the table does not keep is still read (its parts checked for order) and dropped, and
   * on a 1.1.0 stream its sender is asked to pause.
   */
  private async receive (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const reader = new StreamReader(stream, { stallTimeoutMs: 0 })
    const inbound: Inbound = { stream, controllable: stream.protocol === AVAILABILITY_CONTROLLED_PROTOCOL, paused: false, summaryBytes: 0 }
    this.inbound.set(peer, inbound)
    let building: { generation: number, byteLength: number, slot: SummarySlot | undefined } | undefined
    let received = 0
    try {
      for (;;) {
        const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
        if (bytes === undefined) break
        const message: AvailabilityMessage = messages.availability.decode(bytes)
        if (message.summaryStart != null) {
          const start = message.summaryStart
          if (start.version !== SUMMARY_VERSION) throw new UnsupportedSummaryError(`summary version ${start.version} is not supported (only ${SUMMARY_VERSION})`)
          const params = { bits: start.bits, hashes: start.hashes }
          const slot = this.remote.admit(peer, params)
          building = { generation: start.generation, byteLength: start.bits / 8, slot }
          this.advertisedBy.set(peer, start.blobCount)
          inbound.summaryBytes = building.byteLength
          received = 0
          if (slot === undefined) {
            this.log.debug('not keeping a peer\'s summary: the table is full of cheaper peers', { peer, bytes: building.byteLength })
            this.pauseSender(peer)
          } else if (inbound.paused) {
            // Sent before our pause reached it, and kept after all: we need its deltas.
            inbound.paused = false
            this.sendControl(peer, inbound, true)
          }
        } else if (message.summaryPart != null) {
          const part = message.summaryPart
          if (building === undefined || part.generation !== building.generation || part.offset !== received || received + part.data.byteLength > building.byteLength) {
            throw new MalformedFrameError(`summary part at offset ${part.offset} (generation ${part.generation}) does not continue the summary`)
          }
          // An evicted slot stops taking parts (its memory is already released).
          if (building.slot !== undefined && !this.remote.holds(building.slot)) building.slot = undefined
          building.slot?.filter.data.set(part.data, received)
          received += part.data.byteLength
          if (received === building.byteLength) {
            if (building.slot !== undefined) building.slot.complete = true
            this.log.debug('received availability summary', { peer, blobs: this.advertisedBy.get(peer), bytes: received, kept: building.slot !== undefined })
            building = undefined
          }
        } else if (message.delta != null) {
          if (message.delta.added.length > MAX_DELTA_ENTRIES) throw new MalformedFrameError(`delta of ${message.delta.added.length} entries exceeds ${MAX_DELTA_ENTRIES}`)
          if (!this.advertisedBy.has(peer)) continue
          this.advertisedBy.set(peer, this.advertisedBy.get(peer)! + message.delta.added.length)
          const current = this.remote.get(peer)
          if (current === undefined || !current.complete) continue
          for (const ref of message.delta.added) current.filter.add(fromBlobRef(ref).hash)
          // A peer that sends deltas back to back would otherwise keep this loop on microtasks
          // (its frames are already buffered) and starve every other client: let I/O run.
          await new Promise((resolve) => setImmediate(resolve))
        }
      }
    } catch (error) {
      this.log.warn('closing a bad availability stream from a peer', { peer, error })
      stream.abort(error as Error)
    } finally {
      if (this.inbound.get(peer) === inbound) this.inbound.delete(peer)
    }
  }
}

/** Our summary as saved: a u32 LE header length, the header as JSON, then the filter's bytes. */
function encodeSavedSummary (header: SavedSummaryHeader, data: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const out = Buffer.allocUnsafe(4 + json.byteLength + data.byteLength)
  out.writeUInt32LE(json.byteLength, 0)
  json.copy(out, 4)
  out.set(data, 4 + json.byteLength)
  return out
}

/** Reads a record of {@link encodeSavedSummary}; `undefined` for another format or a malformed one. */
function decodeSavedSummary (record: Buffer): { header: SavedSummaryHeader, data: Uint8Array } | undefined {
  if (record.byteLength < 4) return undefined
  const length = record.readUInt32LE(0)
  if (4 + length > record.byteLength) return undefined
  let header: SavedSummaryHeader
  try {
    header = JSON.parse(record.subarray(4, 4 + length).toString('utf8')) as SavedSummaryHeader
  } catch {
    return undefined
  }
  if (header.format !== SAVED_SUMMARY_FORMAT) return undefined
  // A copy: the filter is written to as blobs arrive, and the record's buffer may be shared.
  return { header, data: new Uint8Array(record.subarray(4 + length)) }
}

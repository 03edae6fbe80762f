/** A stream registered as idle with {@link IdleStreamBounds.enter}. */
export interface IdleTicket {
  /** Aborts when the stream must go: another stream pushed it over a bound. */
  readonly signal: AbortSignal
  /** The stream is no longer idle (a request arrived, or it ended). */
  leave(): void
}

interface Entry extends IdleTicket {
  readonly peer: string
  readonly controller: AbortController
}

/**
 * Bounds the streams a server keeps open while they wait for their peer's next request: at most
 * `maxPerPeer` per peer and `maxTotal` over all peers. A stream that would exceed a bound pushes
 * out the one idle longest of that peer, or at the total bound of the peer with the most idle
 * streams, whose ticket's signal then aborts. So a peer holding many idle streams only evicts its
 * own, and all peers' idle streams together stay bounded; evicting costs an honest client no more
 * than opening a new stream.
 */
export class IdleStreamBounds {
  /** Every idle entry, idle longest first (insertion order). */
  private readonly entries = new Set<Entry>()
  private readonly perPeer = new Map<string, Entry[]>()

  constructor (readonly maxPerPeer: number, readonly maxTotal: number) {
    if (!(Number.isInteger(maxPerPeer) && maxPerPeer > 0)) throw new RangeError(`maxPerPeer must be a positive integer, got ${maxPerPeer}`)
    if (!(Number.isInteger(maxTotal) && maxTotal > 0)) throw new RangeError(`maxTotal must be a positive integer, got ${maxTotal}`)
  }

  /** Idle streams now (all peers). */
  get size (): number { return this.entries.size }

  /** Registers a stream of `peer` as idle, evicting the longest-idle one over a bound. */
  enter (peer: string): IdleTicket {
    const mine = this.perPeer.get(peer) ?? []
    if (mine.length >= this.maxPerPeer) this.evict(mine[0]!, `peer has ${mine.length} idle fetch streams, the most kept`)
    if (this.entries.size >= this.maxTotal) this.evict(this.longestIdleOfBusiestPeer(), `${this.entries.size} idle fetch streams, the most kept`)
    const controller = new AbortController()
    const entry: Entry = { peer, controller, signal: controller.signal, leave: () => { this.remove(entry) } }
    this.entries.add(entry)
    const list = this.perPeer.get(peer)
    if (list === undefined) this.perPeer.set(peer, [entry])
    else list.push(entry)
    return entry
  }

  /**
   * At the total bound, the victim is the longest-idle stream of the peer holding the most idle
   * streams: a peer cycling through requests can then only push out its own streams, not an
   * honest peer's single idle one.
   */
  private longestIdleOfBusiestPeer (): Entry {
    let busiest: Entry[] = []
    for (const list of this.perPeer.values()) if (list.length > busiest.length) busiest = list
    return busiest[0]!
  }

  private evict (entry: Entry, reason: string): void {
    this.remove(entry)
    entry.controller.abort(new Error(`idle stream closed: ${reason}`))
  }

  private remove (entry: Entry): void {
    if (!this.entries.delete(entry)) return
    const list = this.perPeer.get(entry.peer)!
    list.splice(list.indexOf(entry), 1)
    if (list.length === 0) this.perPeer.delete(entry.peer)
  }
}

import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import { DigestMismatchError } from '../store/errors.js'
import type { BlobSink } from '../store/index.js'
import { SWARM_MAX_IN_FLIGHT, SWARM_MAX_IN_FLIGHT_PER_PEER, SWARM_TRACKER_POLL_MS } from './constants.js'
import type { FetchClient } from './fetch-client.js'
import type { PeerBook } from './peer-book.js'
import { PiecesUnsupportedError, type PieceProtocol } from './pieces.js'
import { Bitfield, type PartialBlob, type SwarmRegistry } from './swarm.js'

/** What {@link SwarmFetcher} needs. */
export interface SwarmFetcherInit {
  client: FetchClient
  pieces: PieceProtocol
  registry: SwarmRegistry
  book: PeerBook
  logger: Logger
  /** This node's peer ID (never its own source). */
  self: string
  /** Longest wait for a source's first answer to a piece request. */
  answerTimeoutMs: number
}

/** How a swarm fetch ended: stored; no holder speaks the piece protocol; or it failed (try another way). */
/**
 * How a swarm fetch ended: `alone` — no other node is fetching the blob now, so the caller
 * fetches it the plain way (written once, no piece hashes); `unsupported` — no holder speaks the
 * piece protocol; `failed` — a liar was banned or sources went away.
 */
export type SwarmOutcome = 'ok' | 'alone' | 'unsupported' | 'failed'

/** A peer we fetch pieces from: a holder of the whole blob, or another node fetching it. */
interface Source {
  peer: string
  have: Bitfield
  holder: boolean
  inFlight: number
  /** Dropped: lied, failed or went away. */
  gone: boolean
  close?: () => void
}

/**
 * Fetches a large blob BitTorrent-style: the piece map (the SHA-256 of every piece) comes from
 * a node holding the whole blob, which also tells us who else is fetching it now; pieces come
 * from holders and from those other fetchers (rarest first, other fetchers before holders, so a
 * holder's upload is spread over the swarm), and every piece is checked against the map before
 * it is stored, announced or served onwards. A source whose piece does not match is dropped and
 * the piece is fetched elsewhere; it is banned once the whole blob proves the map right. The store
 * adopts the assembled file (a link, no second write) only once the whole blob hashes to its
 * digest; if it does not, the map lied: its holder is banned (not the sources it contradicted)
 * and the caller falls back to another way.
 */
export class SwarmFetcher {
  private readonly log: Logger

  constructor (private readonly init: SwarmFetcherInit) {
    this.log = init.logger
  }

  async fetch (digest: Digest, holders: string[], store: BlobSink, signal: AbortSignal): Promise<SwarmOutcome> {
    const { pieces, registry } = this.init
    let mapHolder: string | undefined
    let map: Awaited<ReturnType<PieceProtocol['getMap']>>
    let unsupported = 0
    for (const holder of holders.slice(0, 2)) {
      try {
        // First without piece hashes: alone, a plain fetch writes the blob once and the holder
        // computes no piece map. A swarm pays for both only when it can spread the holder's upload.
        const probe = await pieces.getMap(holder, digest, { wantHashes: false, signal: AbortSignal.any([signal, AbortSignal.timeout(this.init.answerTimeoutMs)]) })
        if (probe?.complete === true && probe.swarm.length === 0) return 'alone'
        map = await pieces.getMap(holder, digest, { wantHashes: true, signal: AbortSignal.any([signal, AbortSignal.timeout(this.init.answerTimeoutMs * 10)]) })
        if (map?.complete === true) { mapHolder = holder; break }
      } catch (error) {
        signal.throwIfAborted()
        if (error instanceof PiecesUnsupportedError) unsupported++
        else this.log.info('a holder failed to send a piece map', { peer: holder, hash: digest.hash, error })
      }
    }
    if (mapHolder === undefined || map === undefined) return unsupported > 0 ? 'unsupported' : 'failed'
    const partial = await registry.createPartial(digest, map.pieceBytes, map.hashes)
    try {
      return await this.run(digest, partial, mapHolder, map.swarm, holders, store, signal)
    } finally {
      await registry.closePartial(partial)
    }
  }

  private async run (digest: Digest, partial: PartialBlob, mapHolder: string, swarm: string[], holders: string[], store: BlobSink, signal: AbortSignal): Promise<SwarmOutcome> {
    const { client, pieces, registry, book } = this.init
    const controller = new AbortController()
    const combined = AbortSignal.any([signal, controller.signal])
    const sources = new Map<string, Source>()
    const inFlight = new Set<number>()
    /** Sources whose piece did not match the map: liars if the map proves right. */
    const suspects = new Set<string>()
    let wake: (() => void) | undefined
    const notify = (): void => { const w = wake; wake = undefined; w?.() }

    for (const holder of holders) sources.set(holder, { peer: holder, have: Bitfield.full(partial.pieces), holder: true, inFlight: 0, gone: false })
    const drop = (source: Source): void => { source.gone = true; source.close?.(); notify() }

    // Other fetchers: subscribe to their verified pieces.
    const join = (peer: string): void => {
      if (peer === this.init.self || sources.has(peer) || book.isBanned(peer) || combined.aborted) return
      const source: Source = { peer, have: new Bitfield(partial.pieces), holder: false, inFlight: 0, gone: false }
      sources.set(peer, source)
      void (async () => {
        const sub = await pieces.subscribe(peer, digest, combined)
        if (sub === undefined || sub.map.pieceBytes !== partial.pieceBytes) { sub?.close(); drop(source); return }
        source.close = () => { sub.close() }
        for (let i = 0; i < partial.pieces; i++) if (sub.map.have.has(i)) source.have.set(i)
        notify()
        for await (const update of sub.updates()) {
          for (const i of update.have) source.have.set(i)
          if (update.complete) for (let i = 0; i < partial.pieces; i++) source.have.set(i)
          notify()
        }
        // The stream ended: a peer that has everything stays a source; one that stopped is dropped.
        if (!source.have.complete) drop(source)
      })().catch((error) => {
        if (!combined.aborted) this.log.debug('piece subscription failed', { peer, hash: digest.hash, error })
        drop(source)
      })
    }
    for (const peer of swarm) join(peer)
    const stopJoins = registry.onJoin((hash, peer) => { if (hash === digest.hash) join(peer) })

    // Ask the map's holder, now and then, who else is fetching (newcomers join later).
    const tracker = (async () => {
      while (!combined.aborted && !partial.have.complete) {
        await new Promise((resolve) => setTimeout(resolve, SWARM_TRACKER_POLL_MS))
        if (combined.aborted || partial.have.complete) return
        const update = await pieces.getMap(mapHolder, digest, { wantHashes: false, signal: combined }).catch(() => undefined)
        for (const peer of update?.swarm ?? []) join(peer)
      }
    })()

    const fetchPiece = async (source: Source, piece: number): Promise<void> => {
      const { offset, length } = partial.range(piece)
      const started = performance.now()
      try {
        const data = await client.fetchRange(source.peer, digest, offset, length, combined, { answerTimeoutMs: this.init.answerTimeoutMs })
        if (data === 'not-found') {
          // A holder that lost it, or a fetcher that gave up: not a source any more.
          drop(source)
          return
        }
        if (data === 'busy') return
        if (!(await partial.put(piece, data))) {
          // Not used again in this fetch; banned once the whole blob proves the map right (a
          // lying map would otherwise get honest sources banned).
          suspects.add(source.peer)
          this.log.info('peer sent a piece that does not match the piece map; dropped from this fetch', { peer: source.peer, hash: digest.hash, piece })
          drop(source)
          return
        }
        this.log.debug('piece fetched', { peer: source.peer, holder: source.holder, piece, ms: Math.round(performance.now() - started), held: partial.have.setCount, sources: sources.size })
      } catch (error) {
        if (!combined.aborted) {
          this.log.info('a swarm source failed a piece; others take over', { peer: source.peer, hash: digest.hash, piece, error })
          drop(source)
        }
      } finally {
        source.inFlight--
        inFlight.delete(piece)
        notify()
      }
    }

    const running = new Set<Promise<void>>()
    try {
      while (!partial.have.complete) {
        if (combined.aborted) break
        const live = [...sources.values()].filter((s) => !s.gone && !book.isBanned(s.peer))
        if (live.length === 0 && running.size === 0) {
          this.log.info('every swarm source is gone', { hash: digest.hash })
          return 'failed'
        }
        let scheduled = false
        while (running.size < SWARM_MAX_IN_FLIGHT) {
          const pick = choose(partial, live, inFlight)
          if (pick === undefined) break
          const [source, piece] = pick
          source.inFlight++
          inFlight.add(piece)
          const task = fetchPiece(source, piece)
          running.add(task)
          void task.finally(() => { running.delete(task) })
          scheduled = true
        }
        if (!scheduled || running.size >= SWARM_MAX_IN_FLIGHT) {
          await new Promise<void>((resolve) => {
            wake = resolve
            setTimeout(resolve, 100)
          })
        }
      }
      await Promise.all(running)
      signal.throwIfAborted()
      if (!partial.have.complete) return 'failed'
      // Every piece is in the partial file and matched the map: the store takes the file as it
      // is (linked, not written again) once the whole blob hashes to its digest.
      await store.adoptFile(digest, partial.path)
      // The map was right, so the pieces that did not match it were lies.
      for (const peer of suspects) {
        const until = book.ban(peer)
        this.log.warn('peer sent a piece that does not match the verified piece map; banned', { peer, hash: digest.hash, bannedUntil: new Date(until).toISOString() })
      }
      return 'ok'
    } catch (error) {
      signal.throwIfAborted()
      if (error instanceof DigestMismatchError) {
        // Every piece matched the map, so the map lied (and the sources whose pieces did not match
        // it are not blamed).
        const until = book.ban(mapHolder)
        this.log.warn('a blob assembled from verified pieces does not match its digest: the piece map lied; its holder is banned', { peer: mapHolder, hash: digest.hash, bannedUntil: new Date(until).toISOString() })
        return 'failed'
      }
      this.log.info('swarm fetch failed', { hash: digest.hash, error })
      return 'failed'
    } finally {
      controller.abort()
      stopJoins()
      for (const source of sources.values()) source.close?.()
      await Promise.allSettled([...running, tracker])
    }
  }
}

/**
 * The next (source, piece): among pieces neither held nor in flight, the rarest among live
 * sources; a fetcher that has it is preferred to a holder (spreading the holder's upload), then
 * the source with the fewest requests in flight. Random among equals, so fetchers that start
 * together ask for different pieces.
 */
function choose (partial: PartialBlob, sources: Source[], inFlight: Set<number>): [Source, number] | undefined {
  let best: { source: Source, piece: number, score: number } | undefined
  const start = Math.floor(Math.random() * partial.pieces)
  for (let k = 0; k < partial.pieces; k++) {
    const piece = (start + k) % partial.pieces
    if (partial.have.has(piece) || inFlight.has(piece)) continue
    let holders = 0
    let choice: Source | undefined
    for (const source of sources) {
      if (!source.have.has(piece)) continue
      holders++
      if (source.inFlight >= SWARM_MAX_IN_FLIGHT_PER_PEER) continue
      if (choice === undefined || rank(source) < rank(choice)) choice = source
    }
    if (choice === undefined) continue
    // Rarest first; a piece a fetcher can give us beats one only holders have.
    const score = holders + (choice.holder ? 1000 : 0) + choice.inFlight * 0.1
    if (best === undefined || score < best.score) best = { source: choice, piece, score }
  }
  return best === undefined ? undefined : [best.source, best.piece]
}

function rank (source: Source): number {
  return (source.holder ? 10 : 0) + source.inFlight
}

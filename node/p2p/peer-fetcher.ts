import { createHash } from 'node:crypto'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import { DigestMismatchError } from '../store/errors.js'
import type { BlobReader, BlobSink } from '../store/index.js'
import type { BlobFetcher } from '../resolve/tiered-resolver.js'
import type { AvailabilityIndex } from './availability.js'
import { MAX_FETCH_CANDIDATES, MAX_PARALLEL_SOURCES, MAX_PIECE_BYTES, MIN_PIECE_BYTES, PEER_ANSWER_TIMEOUT_MS, PEER_TIER_BUDGET_MS } from './constants.js'
import type { FetchClient } from './fetch-client.js'
import { sleep } from '../limits/index.js'
import type { PeerBook } from './peer-book.js'
import type { SwarmFetcher } from './swarm-fetch.js'

/** What {@link PeerFetcher} needs. */
export interface PeerFetcherInit {
  /** Where fetched blobs go (the local store); pieces are re-read from it to find a lying peer. */
  store: BlobReader & BlobSink
  availability: AvailabilityIndex
  client: FetchClient
  book: PeerBook
  logger: Logger
  /** Blobs at least this big, with two or more candidates, are fetched in pieces from several peers. */
  parallelThreshold: number
  /** Most distinct peers one read tries. @default {@link MAX_FETCH_CANDIDATES} */
  maxCandidates?: number
  /** Longest wait for one peer's first answer. @default {@link PEER_ANSWER_TIMEOUT_MS} */
  answerTimeoutMs?: number
  /** Most time one read waits for peers' answers, over all candidates. @default {@link PEER_TIER_BUDGET_MS} */
  budgetMs?: number
  /** Fetches blobs at or above `parallelThreshold` piece by piece from holders and other fetchers. @default none */
  swarm?: SwarmFetcher
}

/** Passes over BUSY peers before giving up. */
const BUSY_RETRIES = 3

/**
 * The peer tier of the read path. Candidates come from the availability summaries (no network
 * round trip), minus banned and cooling-down peers, fastest expected first. A peer that answers
 * NOT_FOUND (a stale or false-positive summary hit) is skipped; one that stalls or fails is
 * skipped and penalised (by the {@link FetchClient}); one that sends wrong bytes is banned. A
 * read waits for answers at most {@link PEER_TIER_BUDGET_MS} in all, then gives up on the tier.
 */
export class PeerFetcher implements BlobFetcher {
  readonly tier = 'peer' as const
  private readonly log: Logger

  private readonly answerTimeoutMs: number
  private readonly budgetMs: number

  constructor (private readonly init: PeerFetcherInit) {
    this.log = init.logger
    const max = init.maxCandidates
    if (max !== undefined && !(Number.isInteger(max) && max >= 1)) throw new RangeError(`maxCandidates must be a positive integer, got ${max}`)
    this.answerTimeoutMs = init.answerTimeoutMs ?? PEER_ANSWER_TIMEOUT_MS
    this.budgetMs = init.budgetMs ?? PEER_TIER_BUDGET_MS
    if (!(this.answerTimeoutMs > 0)) throw new RangeError(`answerTimeoutMs must be positive, got ${this.answerTimeoutMs}`)
    if (!(this.budgetMs > 0)) throw new RangeError(`budgetMs must be positive, got ${this.budgetMs}`)
  }

  /** Candidate peers for a digest, best first (all of them; a read tries the first few). */
  rank (digest: Digest): string[] {
    const { book } = this.init
    return this.init.availability.candidates(digest.hash)
      .filter((peer) => !book.isBanned(peer) && !book.isCoolingDown(peer))
      .map((peer) => ({ peer, cost: book.expectedMs(peer, digest.sizeBytes) }))
      .sort((a, b) => a.cost - b.cost)
      .map((c) => c.peer)
  }

  /**
   * Fetches from the best candidates, at most {@link MAX_FETCH_CANDIDATES} distinct peers, so a
   * blob no peer has costs a bounded number of round trips however many summaries claim it.
   */
  async fetchInto (digest: Digest, signal: AbortSignal): Promise<boolean> {
    const { store } = this.init
    const candidates = this.candidatesFor(digest)
    if (candidates.length === 0) return false
    if (digest.sizeBytes >= this.init.parallelThreshold && this.init.swarm !== undefined) {
      const outcome = await this.init.swarm.fetch(digest, candidates, store, signal)
      if (outcome === 'ok') return true
      // 'failed': a liar was banned or sources went away; try again one source at a time.
      if (outcome === 'failed') return await this.fetchSequential(digest, this.candidatesFor(digest), store, signal)
    }
    if (digest.sizeBytes >= this.init.parallelThreshold && candidates.length >= 2) {
      const result = await this.fetchParallel(digest, candidates, store, signal)
      if (result === 'ok') return true
      if (result !== 'failed') return await this.fetchAfterMismatch(digest, result.mismatch, store, signal)
    }
    return await this.fetchSequential(digest, candidates, store, signal)
  }

  /** Tries one candidate at a time until one delivers verified bytes. */
  private async fetchSequential (digest: Digest, candidates: string[], store: BlobSink, signal: AbortSignal): Promise<boolean> {
    const { book } = this.init
    // Waiting for answers (and BUSY back-off) is bounded per read; bytes already flowing are not cut.
    const deadline = performance.now() + this.budgetMs
    let round = candidates
    for (let pass = 0; pass <= BUSY_RETRIES && round.length > 0; pass++) {
      if (pass > 0) {
        const backoff = 100 * 2 ** pass
        if (performance.now() + backoff >= deadline) break
        await sleep(backoff, signal)
      }
      const busy: string[] = []
      for (const peer of round) {
        if (book.isBanned(peer) || book.isCoolingDown(peer)) continue
        const remaining = deadline - performance.now()
        if (remaining <= 0) {
          this.log.info('peer tier budget spent; leaving the blob to the next tier', { hash: digest.hash, budgetMs: this.budgetMs })
          return false
        }
        try {
          const outcome = await this.init.client.fetchInto(peer, digest, store, signal, { answerTimeoutMs: Math.min(this.answerTimeoutMs, remaining) })
          if (outcome === 'ok') return true
          if (outcome === 'busy') busy.push(peer)
          else this.log.debug('peer does not have a blob its summary suggested', { peer, hash: digest.hash })
        } catch (error) {
          signal.throwIfAborted()
          if (error instanceof DigestMismatchError) {
            this.banLiar(peer, digest, error)
          } else {
            this.log.info('peer fetch failed or stalled; cooling it down and trying the next candidate', { peer, hash: digest.hash, coolingUntil: new Date(book.get(peer).coolingUntil).toISOString(), error })
          }
        }
      }
      round = busy
    }
    return false
  }

  /** After a parallel fetch failed verification: fetch from one source at a time, then blame. */
  private async fetchAfterMismatch (digest: Digest, served: ServedPiece[], store: BlobReader & BlobSink, signal: AbortSignal): Promise<boolean> {
    const ok = await this.fetchSequential(digest, this.candidatesFor(digest), store, signal)
    if (ok) {
      // The verified blob is the reference: whoever sent a piece that differs from it lied.
      for (const piece of served) {
        const actual = await hashRange(store, digest, piece.offset, piece.length)
        if (actual !== undefined && actual !== piece.sha256 && !this.init.book.isBanned(piece.peer)) {
          this.banLiar(piece.peer, digest, new DigestMismatchError(digest, `piece at ${piece.offset}`, piece.length))
        }
      }
    }
    return ok
  }

  /** The best candidates for `digest`, at most {@link MAX_FETCH_CANDIDATES} (or `maxCandidates`). */
  private candidatesFor (digest: Digest): string[] {
    return this.rank(digest).slice(0, this.init.maxCandidates ?? MAX_FETCH_CANDIDATES)
  }

  /**
   * Fetches pieces from several peers at once (a faster peer takes more pieces) and writes them
   * in order through one verifying writer, holding at most a few pieces per source in memory.
   */
  private async fetchParallel (digest: Digest, candidates: string[], store: BlobSink, signal: AbortSignal): Promise<'ok' | 'failed' | { mismatch: ServedPiece[] }> {
    const sources = candidates.slice(0, MAX_PARALLEL_SOURCES)
    const pieceSize = Math.min(MAX_PIECE_BYTES, Math.max(MIN_PIECE_BYTES, Math.ceil(digest.sizeBytes / (sources.length * 4))))
    const pieceCount = Math.ceil(digest.sizeBytes / pieceSize)
    const maxAhead = sources.length + 1
    const queue = Array.from({ length: pieceCount }, (_, i) => i)
    const ready = new Map<number, Buffer>()
    const served: ServedPiece[] = []
    let nextWrite = 0
    let writeFailure: unknown
    let wakeAll: Array<() => void> = []
    const notify = (): void => { const w = wakeAll; wakeAll = []; for (const f of w) f() }
    const controller = new AbortController()
    const combined = AbortSignal.any([signal, controller.signal])
    const writer = store.createWriter(digest)

    let writing = Promise.resolve()
    const drain = (): void => {
      writing = writing.then(async () => {
        while (writeFailure === undefined && ready.has(nextWrite)) {
          const data = ready.get(nextWrite)!
          ready.delete(nextWrite)
          await writer.write(data)
          nextWrite++
          notify()
        }
      }).catch((error) => { writeFailure = error; controller.abort(); notify() })
    }

    const worker = async (peer: string): Promise<void> => {
      while (!combined.aborted) {
        const piece = queue[0]
        if (piece === undefined) return
        if (piece >= nextWrite + maxAhead) {
          await new Promise<void>((resolve) => { wakeAll.push(resolve) })
          continue
        }
        queue.shift()
        const offset = piece * pieceSize
        const length = Math.min(pieceSize, digest.sizeBytes - offset)
        try {
          const result = await this.init.client.fetchRange(peer, digest, offset, length, combined, { answerTimeoutMs: this.answerTimeoutMs })
          if (typeof result === 'string') throw new Error(`peer answered ${result}`)
          served.push({ peer, offset, length, sha256: createHash('sha256').update(result).digest('hex') })
          ready.set(piece, result)
          drain()
        } catch (error) {
          requeue(queue, piece)
          notify()
          if (!combined.aborted) this.log.info('peer failed a piece of a parallel fetch; others take over', { peer, hash: digest.hash, offset, error })
          return
        }
      }
    }

    try {
      await Promise.all(sources.map(worker))
      await writing
      if (writeFailure !== undefined) throw writeFailure
      if (nextWrite !== pieceCount) return 'failed'
      await writer.commit()
      return 'ok'
    } catch (error) {
      signal.throwIfAborted()
      if (error instanceof DigestMismatchError) {
        this.log.warn('parallel fetch failed verification; refetching from one source at a time to find the liar', { hash: digest.hash, sources })
        return { mismatch: served }
      }
      this.log.info('parallel fetch failed; falling back to one source at a time', { hash: digest.hash, error })
      return 'failed'
    } finally {
      controller.abort()
      notify()
      await writer.abort()
    }
  }

  private banLiar (peer: string, digest: Digest, error: Error): void {
    const until = this.init.book.ban(peer)
    this.log.warn('peer sent bytes that do not match their digest; banned', { peer, hash: digest.hash, bannedUntil: new Date(until).toISOString(), error })
  }
}

interface ServedPiece { peer: string, offset: number, length: number, sha256: string }

function requeue (queue: number[], piece: number): void {
  let i = 0
  while (i < queue.length && queue[i]! < piece) i++
  queue.splice(i, 0, piece)
}

async function hashRange (store: BlobReader, digest: Digest, offset: number, length: number): Promise<string | undefined> {
  const stream = await store.openReadStream(digest, { offset, limit: length })
  if (stream === undefined) return undefined
  const hash = createHash('sha256')
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk)
  return hash.digest('hex')
}

import type { Libp2p } from 'libp2p'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../log/logger.js'
import { batchDigests, isEmptyDigest, type Digest } from '../store/digest.js'
import { DigestMismatchError } from '../store/errors.js'
import type { BlobReader, BlobSink } from '../store/index.js'
import type { NameIndex } from '../store/name-index.js'
import { checkContainerSize, referencesOf, type ValueReferences } from '../domain/references.js'
import type { SyncProgress } from '../generated/peercas/admin/v1/SyncProgress.js'
import type { NameLookupProtocol } from './name-lookups.js'
import { MAX_SYNC_PENDING, MAX_WANTS_PER_REQUEST, SYNC_BATCH_BYTES, SYNC_CONCURRENCY, SYNC_DIAL_TIMEOUT_MS } from './constants.js'
import { UnknownPeerError } from './errors.js'
import { storeBody, type FetchClient } from './fetch-client.js'
import { peerIdOf } from './host.js'
import { forEachBounded, sleep } from '../limits/index.js'
import type { ListProtocol } from './list.js'
import type { PeerBook } from './peer-book.js'
import { describeName, NAME_KINDS, type NameKind, type ResultName } from '../domain/names.js'

/** What {@link syncFromPeer} needs. */
export interface SyncComponents {
  libp2p: Libp2p
  store: BlobReader & BlobSink & { readonly names: NameIndex }
  list: ListProtocol
  lookups: NameLookupProtocol
  client: FetchClient
  book: PeerBook
  logger: Logger
}

/** Options of one sync run (see `SyncOptions` in index.ts). */
export interface SyncRun {
  peer: string
  sinceMs: number
  acOnly: boolean
  signal: AbortSignal
  maxPending?: number
}

/** How often progress is reported. */
const PROGRESS_INTERVAL_MS = 250

interface Progress {
  phase: string
  totalItems: number
  doneItems: number
  totalBytes: number
  doneBytes: number
  skippedItems: number
  failedItems: number
  messages: string[]
}

/**
 * Pulls from one peer: every action-cache entry (only if the peer is trusted) with the blobs it
 * references, then, unless `acOnly`, every blob the peer has and we lack. Resumable: whatever is
 * already here is skipped, so re-running after an interruption only fetches the rest.
 */
export async function * syncFromPeer (c: SyncComponents, run: SyncRun): AsyncGenerator<SyncProgress> {
  const progress: Progress = { phase: 'connecting', totalItems: 0, doneItems: 0, totalBytes: 0, doneBytes: 0, skippedItems: 0, failedItems: 0, messages: [] }
  let finished = false
  let failure: unknown
  const work = (async () => {
    const peer = await resolvePeer(c.libp2p, run.peer, run.signal)
    // A duration: the peer applies it to its own clock (action results written, blobs written
    // or used, in that window).
    const since = run.sinceMs
    if (c.lookups.isTrusted(peer)) {
      for (const kind of NAME_KINDS) await syncNames(c, peer, kind, progress, run.signal, since, run.maxPending)
    } else {
      progress.messages.push(`peer ${peer} is not in trust.peers; its action results and other named results were not pulled`)
    }
    if (!run.acOnly) await syncBlobs(c, peer, progress, run.signal, since, run.maxPending)
  })().catch((error) => { failure = error }).finally(() => { finished = true })

  while (!finished) {
    await Promise.race([work, sleep(PROGRESS_INTERVAL_MS, run.signal).catch(() => {})])
    if (!finished) yield snapshot(progress, false)
  }
  if (failure !== undefined) {
    if (run.signal.aborted) throw failure
    progress.messages.push(`stopped: ${(failure as Error).message}`)
    yield snapshot(progress, false)
    return
  }
  progress.phase = 'done'
  yield snapshot(progress, true)
}

function snapshot (p: Progress, done: boolean): SyncProgress {
  return { phase: p.phase, totalItems: p.totalItems, doneItems: p.doneItems, totalBytes: p.totalBytes, doneBytes: p.doneBytes, skippedItems: p.skippedItems, failedItems: p.failedItems, done, message: p.messages.join('; ') }
}

/** A peer ID from a multiaddr (dialled) or a bare peer ID (must be reachable). */
async function resolvePeer (libp2p: Libp2p, target: string, signal: AbortSignal): Promise<string> {
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(SYNC_DIAL_TIMEOUT_MS)])
  if (target.startsWith('/')) {
    let address
    try { address = multiaddr(target) } catch (error) { throw new UnknownPeerError(`${target} is not a multiaddr`, { cause: error }) }
    if (peerIdOf(address) === undefined) throw new UnknownPeerError(`${target} has no /p2p/PEER_ID component`)
    const connection = await libp2p.dial(address, { signal: timeout })
    return connection.remotePeer.toString()
  }
  let id
  try { id = peerIdFromString(target) } catch (error) { throw new UnknownPeerError(`${target} is neither a multiaddr nor a peer ID`, { cause: error }) }
  if (libp2p.getConnections(id).length === 0) {
    try {
      await libp2p.dial(id, { signal: timeout })
    } catch (error) {
      throw new UnknownPeerError(`peer ${target} is not connected and could not be dialled; pass its multiaddr`, { cause: error })
    }
  }
  return id.toString()
}

/**
 * Pulls the named results of one kind that `peer` holds and we lack, each with every blob it
 * references (walked through its containers: trees, directories), so what is stored here is
 * complete. A value is stored only once all its blobs are.
 */
async function syncNames (c: SyncComponents, peer: string, kind: NameKind, p: Progress, signal: AbortSignal, since: number, maxPending = MAX_SYNC_PENDING): Promise<void> {
  p.phase = `listing ${kind}s`
  // Only entries we lack are kept, up to a bound; the rest waits for the next run.
  const names: ResultName[] = []
  for await (const name of c.list.names(peer, kind, signal, since)) {
    p.totalItems++
    if ((await c.store.names.get(name)) !== undefined) { p.skippedItems++; continue }
    names.push(name)
    if (names.length >= maxPending) {
      p.messages.push(`listed ${maxPending} missing ${kind}s, the most one run takes; run sync again for the rest`)
      break
    }
  }
  p.phase = `${kind}s`
  await forEachBounded(names, SYNC_CONCURRENCY, async (name) => {
    try {
      if ((await c.store.names.get(name)) !== undefined) { p.skippedItems++; return }
      const value = await c.lookups.lookup(peer, name, signal)
      if (value === undefined) { p.skippedItems++; return }
      if (!(await pullReferences(c, peer, referencesOf(kind, value), p, signal))) { p.failedItems++; return }
      await c.store.names.put(name, value)
      p.doneItems++
    } catch (error) {
      signal.throwIfAborted()
      c.logger.info('sync: a named result could not be pulled', { peer, name: describeName(name), error })
      p.failedItems++
    }
  }, { signal })
}

/** Fetches every blob `refs` needs from `peer`, container by container. False if any is missing. */
async function pullReferences (c: SyncComponents, peer: string, refs: ValueReferences, p: Progress, signal: AbortSignal): Promise<boolean> {
  const seen = new Set<string>()
  let level = [...refs.direct]
  while (level.length > 0) {
    level = level.filter((d) => !seen.has(d.hash))
    for (const d of level) seen.add(d.hash)
    if (!(await fetchMissing(c, peer, level, p, signal))) return false
    const next: Digest[] = []
    for (const container of level.filter((d) => refs.isContainer(d))) {
      checkContainerSize(container)
      const bytes = await c.store.read(container)
      if (bytes === undefined) return false
      next.push(...refs.childrenOf(container, bytes))
    }
    level = next
  }
  return true
}

async function syncBlobs (c: SyncComponents, peer: string, p: Progress, signal: AbortSignal, since: number, maxPending = MAX_SYNC_PENDING): Promise<void> {
  p.phase = 'listing blobs'
  const missing: Digest[] = []
  let batch: Digest[] = []
  const check = async (): Promise<void> => {
    const absent = new Set((await c.store.findMissing(batch)).map((d) => d.hash))
    for (const d of batch) {
      if (absent.has(d.hash)) { missing.push(d); p.totalBytes += d.sizeBytes } else p.skippedItems++
    }
    batch = []
  }
  for await (const digest of c.list.blobs(peer, signal, since)) {
    p.totalItems++
    batch.push(digest)
    if (batch.length >= 1000) await check()
    if (missing.length >= maxPending) {
      p.messages.push(`listed ${maxPending} missing blobs, the most one run takes; run sync again for the rest`)
      break
    }
  }
  await check()
  p.phase = 'blobs'
  await fetchMissing(c, peer, missing, p, signal, true)
}

/**
 * Fetches the blobs of `digests` not yet stored, from `peer`, batching small ones into one
 * request. Returns false if any could not be fetched.
 */
async function fetchMissing (c: SyncComponents, peer: string, digests: Digest[], p: Progress, signal: AbortSignal, countItems = false): Promise<boolean> {
  const unique = [...new Map(digests.filter((d) => !isEmptyDigest(d)).map((d) => [d.hash, d])).values()]
  const missing = await c.store.findMissing(unique)
  const batches = batchDigests(missing, { maxBytes: SYNC_BATCH_BYTES, maxCount: MAX_WANTS_PER_REQUEST })
  let ok = true
  await forEachBounded(batches, SYNC_CONCURRENCY, async (wants) => {
    try {
      const session = await c.client.open(peer, wants.map((digest) => ({ digest })), signal)
      try {
        for (const digest of wants) {
          const header = await session.header()
          if (header.status !== 'OK') {
            ok = false
            if (countItems) p.failedItems++
            continue
          }
          try {
            await storeBody(session, header.length, digest, c.store)
          } catch (error) {
            // Wrong bytes or a broken body: this stream is never reused.
            session.fail()
            throw error
          }
          c.book.get(peer).bytesFetchedFrom += digest.sizeBytes
          p.doneBytes += digest.sizeBytes
          if (countItems) p.doneItems++
        }
      } finally {
        session.close()
      }
    } catch (error) {
      signal.throwIfAborted()
      ok = false
      if (error instanceof DigestMismatchError) {
        c.book.ban(peer)
        c.logger.warn('sync: peer sent bytes that do not match their digest; banned', { peer, error })
        throw error
      }
      c.logger.info('sync: a batch of blobs could not be fetched', { peer, error })
      if (countItems) p.failedItems += wants.length
    }
  }, { signal })
  return ok
}

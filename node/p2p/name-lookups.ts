import { treeFileDigests } from '../domain/tree.js'
import type { Libp2p } from 'libp2p'
import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from '../log/logger.js'
import { isEmptyDigest, type Digest } from '../store/digest.js'
import { DigestMismatchError } from '../store/errors.js'
import type { BlobReader, BlobSink } from '../store/index.js'
import type { NameIndex } from '../store/name-index.js'
import { referencedDigests } from '../domain/action-result.js'
import type { NameFetcher } from '../resolve/named-results.js'
import type { JudgedAnswer, TrustPolicy } from '../trust/policy.js'
import { actionDigestOf, actionResultName, describeName, isNameKind, type ResultName } from '../domain/names.js'
import { reapiMessages } from '../domain/messages.js'
import { ACTION_RESULT_PROTOCOL, ACTION_RESULT_STREAM_PROTOCOL, MAX_NAME_KEY_CHARS, NAMED_RESULT_PROTOCOL, INLINE_BLOB_OVERHEAD_BYTES, LOOKUP_IDLE_STREAMS_PER_PEER, LOOKUP_STREAM_IDLE_MS, MAX_ACTION_RESULT_BYTES, MAX_CONTROL_FRAME_BYTES, MAX_INLINE_BLOBS, MAX_INLINE_BYTES, PEER_TIER_BUDGET_MS } from './constants.js'
import { fromBlobRef, toBlobRef } from './cid.js'
import { MalformedFrameError, PeerMisbehavedError, UnexpectedEndError, isTransportError } from './errors.js'
import { StreamReader, sendFrame } from './framing.js'
import { ReusableStreamPool, type PooledStream, type PoolProtocol } from './stream-pool.js'
import { messages, type ActionResultResponseMessage, type InlineBlobMessage, type NamedResultResponseMessage } from './messages.js'
import { TokenBucket } from '../limits/index.js'
import type { PeerBook, PeerRecord } from './peer-book.js'

/** What {@link NameLookupProtocol} needs. */
export interface NameLookupProtocolInit {
  libp2p: Libp2p
  store: BlobReader & BlobSink & { readonly names: NameIndex }
  logger: Logger
  /** Decides which answers are used (signer, mode, revocations); the same policy as the resolver's. */
  policy: TrustPolicy
  stallTimeoutMs: number
  /** Where a peer that stalls a lookup is penalised, and cooling-down peers are looked up. */
  book: PeerBook
  /** Most time one lookup waits for trusted peers. @default {@link PEER_TIER_BUDGET_MS} */
  budgetMs?: number
  /**
   * Bytes of referenced blobs we ask peers to carry inline in their answers (0 = none); a server
   * sends at most {@link MAX_INLINE_BYTES} whatever is asked. @default {@link MAX_INLINE_BYTES}
   */
  maxInlineBytes?: number
  /** Paces blob bytes we serve inline, shared with the fetch server (`maxServeRate`). @default unlimited */
  serveRate?: TokenBucket
}

/** Longest instance name accepted in a request. */
const MAX_INSTANCE_NAME = 1024
/** Longest environment ID accepted in a request. */
const MAX_ENVIRONMENT_CHARS = 256
/** Most peers one lookup asks at once (listed peers first). */
const LOOKUP_FANOUT = 8
/** Concurrent lookups served per connection. */
const MAX_LOOKUP_STREAMS = 32

/** The lookup protocols, newest first (see {@link NameLookupProtocol}). */
const LOOKUP_PROTOCOLS: readonly PoolProtocol[] = [
  { id: NAMED_RESULT_PROTOCOL, reusable: true },
  { id: ACTION_RESULT_STREAM_PROTOCOL, reusable: true },
  { id: ACTION_RESULT_PROTOCOL, reusable: false }
]

/**
 * Named-result lookups at peers: the peer tier of {@link NamedResultResolver}.
 * - /peercas/ac/2.0.0: NamedResultRequest (kind, instance, key) → NamedResultResponse, repeated on
 *   one stream, which the asker keeps in a small idle pool per peer.
 * - /peercas/ac/1.1.0 (reusable) and 1.0.0 (one per stream), spoken by older nodes:
 *   ActionResultRequest → ActionResultResponse; they are asked for action results only.
 * Any peer may ask; only answers from peers in `trust.peers` are used (the peer ID is
 * authenticated by Noise). An answer for an action result may carry the small blobs it references
 * (`inline_blobs`), so the asker needs no fetch stream for them; each is verified (SHA-256 and
 * size) before it is stored, and a peer that sends wrong bytes is banned like a fetch liar.
 *
 * @see NamedResultResolver in node/resolve/named-results.ts
 */
export class NameLookupProtocol implements NameFetcher {
  readonly tier = 'peer'
  private readonly log: Logger
  /**
   * Outbound lookup streams: at most MAX_LOOKUP_STREAMS per peer (a burst of GetActionResult calls
   * queues instead of failing), idle /peercas/ac/1.1.0 streams kept for the next lookup.
   */
  private readonly pool: ReusableStreamPool
  private readonly maxInlineBytes: number
  private readonly serveRate: TokenBucket

  constructor (private readonly init: NameLookupProtocolInit) {
    this.log = init.logger
    this.maxInlineBytes = init.maxInlineBytes ?? MAX_INLINE_BYTES
    if (!(Number.isInteger(this.maxInlineBytes) && this.maxInlineBytes >= 0 && this.maxInlineBytes <= MAX_INLINE_BYTES)) {
      throw new RangeError(`maxInlineBytes must be an integer in 0..${MAX_INLINE_BYTES}, got ${this.maxInlineBytes}`)
    }
    this.serveRate = init.serveRate ?? new TokenBucket(0)
    this.pool = new ReusableStreamPool({
      libp2p: init.libp2p,
      logger: init.logger,
      protocols: LOOKUP_PROTOCOLS,
      stallTimeoutMs: init.stallTimeoutMs,
      maxStreamsPerPeer: MAX_LOOKUP_STREAMS,
      maxIdlePerPeer: LOOKUP_IDLE_STREAMS_PER_PEER,
      idleMs: LOOKUP_STREAM_IDLE_MS
    })
  }

  /** Closes idle lookup streams (at shutdown). */
  close (): void { this.pool.close() }

  /** Registers the protocol handlers (2.0.0 and, for older nodes, 1.1.0 and 1.0.0). */
  async start (): Promise<void> {
    for (const protocol of LOOKUP_PROTOCOLS) {
      await this.init.libp2p.handle(protocol.id, (stream, connection) => {
        void this.serve(stream, connection, protocol).catch((error) => {
          this.log.debug('lookup stream failed', { peer: connection.remotePeer.toString(), protocol: protocol.id, error })
          stream.abort(error as Error)
        })
      }, { maxInboundStreams: MAX_LOOKUP_STREAMS, maxOutboundStreams: MAX_LOOKUP_STREAMS })
    }
  }

  /** True if named results from `peer` could be used at all (trust.results is not `none`, the peer is not revoked). */
  mayAsk (peer: string): boolean { return this.init.policy.mayAsk(peer) }

  /**
   * Asks every connected trusted peer that is not cooling down at once; the first complete
   * answer wins. `undefined` when no such peer is connected, none has it, or none answered
   * within the budget ({@link PEER_TIER_BUDGET_MS}): a peer that failed or did not answer in
   * time is penalised (skipped for a while), so a hung peer costs one bounded wait.
   */
  async fetchNamed (name: ResultName, signal: AbortSignal): Promise<JudgedAnswer | undefined> {
    const { book, policy } = this.init
    // Every connected peer may hold an entry whose signer we accept (a relay): ask those the
    // policy allows, listed peers first, at most LOOKUP_FANOUT of them.
    const peers = this.init.libp2p.getPeers().map((id) => id.toString())
      .filter((peer) => policy.mayAsk(peer) && !book.isBanned(peer) && !book.isCoolingDown(peer))
      .sort((a, b) => Number(policy.isListed(b)) - Number(policy.isListed(a)))
      .slice(0, LOOKUP_FANOUT)
    if (peers.length === 0) return undefined
    const budgetMs = Math.min(this.init.budgetMs ?? PEER_TIER_BUDGET_MS, this.init.stallTimeoutMs)
    const controller = new AbortController()
    const budget = AbortSignal.timeout(budgetMs)
    const combined = AbortSignal.any([signal, controller.signal, budget])
    const started = performance.now()
    try {
      return await new Promise<JudgedAnswer | undefined>((resolve) => {
        let pending = peers.length
        for (const peer of peers) {
          this.lookup(peer, name, combined).then((result) => {
            book.recordAnswer(peer, performance.now() - started)
            if (result !== undefined) resolve(result)
          }, (error) => {
            // Cut off by the budget, or failed on its own: either way not worth waiting for soon.
            if (signal.aborted || controller.signal.aborted) return
            // A liar is already banned (in lookupNow); that is not a slow peer.
            if (error instanceof DigestMismatchError) return
            const until = book.penalize(peer, Math.max(performance.now() - started, budgetMs))
            this.log.info('peer failed or did not answer a lookup in time; cooling it down', { peer, name: describeName(name), coolingUntil: new Date(until).toISOString(), error })
          }).finally(() => { if (--pending === 0) resolve(undefined) })
        }
      })
    } finally {
      controller.abort()
    }
  }

  /**
   * Asks one peer. Resolves only with an answer the trust policy accepts, with that verdict
   * (`signature` is the one to store it with; absent when this node is to vouch for it),
   * `undefined` otherwise. Blobs an
   * accepted answer carries inline are verified and stored before this resolves; wrong bytes ban
   * the peer and reject with {@link DigestMismatchError} (the answer is not used).
   */
  async lookup (peer: string, name: ResultName, signal: AbortSignal): Promise<JudgedAnswer | undefined> {
    const opening = AbortSignal.any([signal, AbortSignal.timeout(this.init.stallTimeoutMs)])
    const { stream, reused } = await this.pool.acquire(peer, opening)
    try {
      return await this.ask(peer, stream, name, signal)
    } catch (error) {
      // An idle stream that the peer closed (idle timeout, restart) just as we reused it: that
      // says nothing about the peer, so ask once more on another stream.
      if (!reused || signal.aborted || !isTransportError(error)) throw error
      this.log.debug('idle lookup stream failed on reuse; asking on another one', { peer, error })
      return await this.ask(peer, (await this.pool.acquire(peer, opening)).stream, name, signal)
    }
  }

  /** One request and its answer on `lookup`; the stream goes back to the pool if it can. */
  private async ask (peer: string, lookup: PooledStream, name: ResultName, signal: AbortSignal): Promise<JudgedAnswer | undefined> {
    const { stream, reader } = lookup
    const named = lookup.protocol === NAMED_RESULT_PROTOCOL
    // A 1.x peer knows action results of the default environment only: anything else is a miss
    // there (the stream stays usable).
    if (!named && (name.kind !== 'action-result' || name.environment !== '')) { this.pool.release(lookup, true); return undefined }
    const onAbort = (): void => { stream.abort(new Error('lookup aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    let answered = false
    try {
      // Inline blobs are defined for action results (the blobs they reference).
      const maxInlineBytes = name.kind === 'action-result' ? this.maxInlineBytes : 0
      const request = named
        ? messages.namedResultRequest.encode({ kind: name.kind, instanceName: name.instanceName, environment: name.environment, key: name.key, maxInlineBytes })
        : messages.actionResultRequest.encode({ instanceName: name.instanceName, action: toBlobRef(actionDigestOf(name)), maxInlineBytes })
      await sendFrame(stream, request, { signal, stallTimeoutMs: this.init.stallTimeoutMs })
      if (!lookup.reusable) await stream.close({ signal })
      const inlineCap = maxInlineBytes === 0 ? 0 : maxInlineBytes + MAX_INLINE_BLOBS * INLINE_BLOB_OVERHEAD_BYTES
      const bytes = await reader.readFrame(MAX_ACTION_RESULT_BYTES + 64 + inlineCap)
      if (bytes === undefined) throw new UnexpectedEndError(`peer ${peer} closed the lookup stream without answering`)
      const response = named ? messages.namedResultResponse.decode(bytes) : toNamedResponse(messages.actionResultResponse.decode(bytes))
      if (!response.found) { answered = true; return undefined }
      if (response.value.byteLength > MAX_ACTION_RESULT_BYTES) throw new PeerMisbehavedError(`peer ${peer} sent a value of ${response.value.byteLength} bytes for ${describeName(name)}`)
      const result = Buffer.from(response.value)
      if ((response.inlineBlobs ?? []).length > 0 && maxInlineBytes === 0) throw new PeerMisbehavedError(`peer ${peer} sent inline blobs nobody asked for with ${describeName(name)}`)
      // Judged before anything of it is stored: a refused answer leaves nothing behind.
      const signature = response.signer === '' ? undefined : { signer: response.signer, signedAtMs: Number(response.signedAtMs), signature: response.signature }
      const verdict = await this.init.policy.judge(name, { value: result, signature, source: { tier: 'peer', peer } })
      if (!verdict.accepted) {
        this.log.info('refused a named result from a peer', { peer, name: describeName(name), reason: verdict.reason })
        answered = true
        return undefined
      }
      try {
        await this.storeInline(peer, result, response.inlineBlobs ?? [], maxInlineBytes)
      } catch (error) {
        if (error instanceof DigestMismatchError) {
          const until = this.init.book.ban(peer)
          this.log.warn('peer sent inline blob bytes that do not match their digest; banned', { peer, name: describeName(name), bannedUntil: new Date(until).toISOString(), error })
        }
        throw error
      }
      answered = true
      return { value: result, signature: verdict.signature, source: { tier: 'peer', peer }, verdict }
    } finally {
      signal.removeEventListener('abort', onAbort)
      this.pool.release(lookup, answered && !signal.aborted)
    }
  }

  /**
   * Stores the inline blobs of an answer that its result references: first the blobs it names
   * directly (trees included), then the files of those trees — parsed only once the tree itself
   * was verified and stored. The store checks every blob's SHA-256 and size before it becomes
   * visible; a mismatch rejects with {@link DigestMismatchError}. Blobs the result does not
   * reference are dropped: an answer is no way to put arbitrary blobs here. Storing can fail
   * for other reasons (quota); the completeness check then fetches the blob.
   */
  private async storeInline (peer: string, result: Buffer, blobs: InlineBlobMessage[], asked: number): Promise<void> {
    if (blobs.length === 0) return
    if (blobs.length > MAX_INLINE_BLOBS) throw new PeerMisbehavedError(`peer ${peer} sent ${blobs.length} inline blobs, more than the cap of ${MAX_INLINE_BLOBS}`)
    const received: InlineBlob[] = []
    let total = 0
    for (const blob of blobs) {
      total += blob.data.byteLength
      if (total > asked) throw new PeerMisbehavedError(`peer ${peer} sent ${total} bytes of inline blobs, more than the ${asked} asked for`)
      received.push({ digest: fromBlobRef(blob.blob), data: Buffer.from(blob.data.buffer, blob.data.byteOffset, blob.data.byteLength) })
    }
    let refs: { blobs: Digest[], trees: Digest[] }
    try {
      refs = referencedDigests(reapiMessages.ActionResult.deserialize(result))
    } catch {
      return // a malformed result is a miss anyway
    }
    const direct = new Set([...refs.blobs, ...refs.trees].map((d) => d.hash))
    const trees = new Set(refs.trees.map((d) => d.hash))
    const first = received.filter((b) => direct.has(b.digest.hash) && !isEmptyDigest(b.digest))
    const stored = await this.putVerified(peer, first)
    const treeFiles = new Set<string>()
    for (const blob of stored) {
      if (!trees.has(blob.digest.hash)) continue
      try {
        for (const file of treeFileDigests(blob.digest, blob.data)) treeFiles.add(file.hash)
      } catch { /* not a Tree: the result is unusable, and its files are not wanted */ }
    }
    const second = received.filter((b) => !direct.has(b.digest.hash) && treeFiles.has(b.digest.hash) && !isEmptyDigest(b.digest))
    await this.putVerified(peer, second)
    this.init.book.get(peer).bytesFetchedFrom += total
    const dropped = received.filter((b) => !isEmptyDigest(b.digest)).length - first.length - second.length
    if (dropped > 0) this.log.info('peer sent inline blobs its action result does not reference; dropped', { peer, dropped })
  }

  /** Stores blobs through the verifying store; resolves those stored, rejects on wrong bytes. */
  private async putVerified (peer: string, blobs: InlineBlob[]): Promise<InlineBlob[]> {
    if (blobs.length === 0) return []
    const errors = await this.init.store.putMany(blobs)
    const mismatch = errors.find((e) => e instanceof DigestMismatchError)
    if (mismatch !== undefined) throw mismatch
    errors.forEach((error, i) => {
      if (error !== undefined) this.log.debug('could not store an inline blob; it will be fetched if needed', { peer, hash: blobs[i]!.digest.hash, error })
    })
    return blobs.filter((_, i) => errors[i] === undefined)
  }

  /**
   * The blobs to carry inline in an answer to `peer`: those `result` references (trees, then
   * the files in them) that we hold, smallest first, up to `asked` bytes (at most
   * {@link MAX_INLINE_BYTES}, {@link MAX_INLINE_BLOBS} blobs). Nothing when the serve rate
   * cannot cover them now: the asker then fetches them through the paced fetch protocol.
   */
  private async inlineBlobs (record: PeerRecord, result: Uint8Array, asked: number): Promise<InlineBlobMessage[]> {
    let remaining = Math.min(asked, MAX_INLINE_BYTES)
    if (!(remaining > 0)) return []
    let refs: { blobs: Digest[], trees: Digest[] }
    try {
      refs = referencedDigests(reapiMessages.ActionResult.deserialize(Buffer.from(result.buffer, result.byteOffset, result.byteLength)))
    } catch {
      return []
    }
    const { store } = this.init
    const chosen: Array<{ digest: Digest, data: Buffer }> = []
    const seen = new Set<string>()
    const fits = (d: Digest): boolean => !isEmptyDigest(d) && !seen.has(d.hash) && d.sizeBytes <= remaining && chosen.length < MAX_INLINE_BLOBS
    const files = [...refs.blobs]
    for (const tree of refs.trees.sort(bySize)) {
      if (!fits(tree)) continue
      seen.add(tree.hash)
      const data = await store.read(tree)
      if (data?.byteLength !== tree.sizeBytes) continue
      chosen.push({ digest: tree, data })
      remaining -= tree.sizeBytes
      try {
        files.push(...treeFileDigests(tree, data))
      } catch { /* not a Tree: none of its files is carried */ }
    }
    const picked: Digest[] = []
    for (const file of files.sort(bySize)) {
      if (file.sizeBytes > remaining || chosen.length + picked.length >= MAX_INLINE_BLOBS) break
      if (!fits(file)) continue
      seen.add(file.hash)
      picked.push(file)
      remaining -= file.sizeBytes
    }
    const read = await Promise.all(picked.map(async (digest) => ({ digest, data: await store.read(digest) })))
    for (const { digest, data } of read) if (data?.byteLength === digest.sizeBytes) chosen.push({ digest, data })
    const total = chosen.reduce((sum, b) => sum + b.data.byteLength, 0)
    if (total === 0) return []
    if (!this.serveRate.tryTake(total)) return []
    if (!record.serveRate.tryTake(total)) { this.serveRate.refund(total); return [] }
    record.bytesServedTo += total
    return chosen.map(({ digest, data }) => ({ blob: toBlobRef(digest), data }))
  }

  /**
   * Answers lookups on one stream: one (1.0.0), or one after another until the asker closes its
   * side (1.1.0, 2.0.0). Between requests the asker may stay silent at most the stall timeout.
   */
  private async serve (stream: Stream, connection: Connection, protocol: PoolProtocol): Promise<void> {
    const peer = connection.remotePeer.toString()
    const reader = new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs })
    const named = protocol.id === NAMED_RESULT_PROTOCOL
    for (;;) {
      const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
      if (bytes === undefined) { await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) }); return }
      const { name, maxInlineBytes } = named ? parseNamedRequest(bytes) : parseActionResultRequest(bytes)
      const record = name === undefined ? undefined : await this.init.store.names.getRecord(name)
      // Entries of revoked signers are never served (they are removed at start and on reload).
      const revoked = record?.signature !== undefined && this.init.policy.isRevoked(record.signature.signer)
      const found = record !== undefined && !revoked && record.value.byteLength <= MAX_ACTION_RESULT_BYTES
      const inlineBlobs = found && name?.kind === 'action-result' ? await this.inlineBlobs(this.init.book.get(peer), record.value, maxInlineBytes) : []
      const answer = found ? record.value : new Uint8Array(0)
      const signature = found ? record.signature : undefined
      await sendFrame(stream, named
        ? messages.namedResultResponse.encode({ found, value: answer, inlineBlobs, signer: signature?.signer ?? '', signedAtMs: signature?.signedAtMs ?? 0, signature: signature?.signature ?? new Uint8Array(0) })
        : messages.actionResultResponse.encode({ found, actionResult: answer, inlineBlobs }), { stallTimeoutMs: this.init.stallTimeoutMs })
      this.log.debug('answered a lookup', { peer, name: name === undefined ? 'unknown kind' : describeName(name), found, inlineBlobs: inlineBlobs.length })
      if (!protocol.reusable) {
        await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) })
        return
      }
    }
  }
}

/** A blob received inline, not yet verified. */
interface InlineBlob { digest: Digest, data: Buffer }


function bySize (a: Digest, b: Digest): number { return a.sizeBytes - b.sizeBytes }

/** A lookup request as the server reads it: the name (undefined for a kind this node does not know) and the inline budget asked. */
interface ParsedLookup { name: ResultName | undefined, maxInlineBytes: number }

/** Reads a /peercas/ac/2.0.0 request; a malformed one throws {@link MalformedFrameError} (the stream is aborted). */
function parseNamedRequest (bytes: Uint8Array): ParsedLookup {
  const request = messages.namedResultRequest.decode(bytes)
  checkInstanceName(request.instanceName)
  if (request.environment.length > MAX_ENVIRONMENT_CHARS) throw new MalformedFrameError(`environment ID of ${request.environment.length} characters`)
  if (request.key.length === 0 || request.key.length > MAX_NAME_KEY_CHARS) throw new MalformedFrameError(`named-result key of ${request.key.length} characters`)
  // A kind from a newer node: not here (found = false), not an error.
  const name = isNameKind(request.kind) ? { kind: request.kind, instanceName: request.instanceName, environment: request.environment, key: request.key } : undefined
  return { name, maxInlineBytes: request.maxInlineBytes ?? 0 }
}

/** Reads a /peercas/ac/1.x request (an action result by action digest). */
function parseActionResultRequest (bytes: Uint8Array): ParsedLookup {
  const request = messages.actionResultRequest.decode(bytes)
  checkInstanceName(request.instanceName)
  return { name: actionResultName(request.instanceName, fromBlobRef(request.action)), maxInlineBytes: request.maxInlineBytes ?? 0 }
}

function checkInstanceName (instanceName: string): void {
  if (instanceName.length > MAX_INSTANCE_NAME) throw new MalformedFrameError(`instance name of ${instanceName.length} characters`)
}

/** A 1.x answer in the shape of a 2.0.0 one. */
function toNamedResponse (response: ActionResultResponseMessage): NamedResultResponseMessage {
  return { found: response.found, value: response.actionResult, inlineBlobs: response.inlineBlobs, signer: '', signedAtMs: 0, signature: new Uint8Array(0) }
}

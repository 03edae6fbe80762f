import type { Libp2p } from 'libp2p'
import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { LocalStore } from '../store/local-store.js'
import type { ActionResultFetcher } from '../reapi/action-cache-service.js'
import { ACTION_RESULT_PROTOCOL, MAX_ACTION_RESULT_BYTES, MAX_CONTROL_FRAME_BYTES, PEER_TIER_BUDGET_MS } from './constants.js'
import { fromBlobRef, toBlobRef } from './cid.js'
import { MalformedFrameError, PeerMisbehavedError } from './errors.js'
import { StreamReader, sendFrame } from './framing.js'
import { messages } from './messages.js'
import { Semaphore } from './limits.js'
import type { PeerBook } from './peer-book.js'

/** What {@link ActionResultProtocol} needs. */
export interface ActionResultProtocolInit {
  libp2p: Libp2p
  store: LocalStore
  logger: Logger
  /** Peer IDs whose answers are accepted (config `trust.peers`). */
  trustedPeers: readonly string[]
  stallTimeoutMs: number
  /** Where a peer that stalls a lookup is penalised, and cooling-down peers are looked up. */
  book: PeerBook
  /** Most time one lookup waits for trusted peers. @default {@link PEER_TIER_BUDGET_MS} */
  budgetMs?: number
  /** Test hook: accept lookups and never answer. */
  stall?: boolean
}

/** Longest instance name accepted in a request. */
const MAX_INSTANCE_NAME = 1024
/** Concurrent lookups served per connection. */
const MAX_LOOKUP_STREAMS = 32

/**
 * /peercas/ac/1.0.0: one ActionResultRequest, one ActionResultResponse per stream. Any peer may
 * ask; only answers from peers in `trust.peers` are used (the peer ID is authenticated by Noise).
 */
export class ActionResultProtocol implements ActionResultFetcher {
  private readonly trusted: Set<string>
  private readonly log: Logger
  /** Outbound lookups per peer: a burst of GetActionResult calls queues instead of failing. */
  private readonly lookupSlots = new Map<string, Semaphore>()

  constructor (private readonly init: ActionResultProtocolInit) {
    this.trusted = new Set(init.trustedPeers)
    this.log = init.logger
  }

  /** Registers the protocol handler. */
  async start (): Promise<void> {
    await this.init.libp2p.handle(ACTION_RESULT_PROTOCOL, (stream, connection) => {
      void this.serve(stream, connection).catch((error) => {
        this.log.debug('action-result stream failed', { peer: connection.remotePeer.toString(), error })
        stream.abort(error as Error)
      })
    }, { maxInboundStreams: MAX_LOOKUP_STREAMS, maxOutboundStreams: MAX_LOOKUP_STREAMS })
  }

  /** True if `peer` may answer action-cache lookups. */
  isTrusted (peer: string): boolean { return this.trusted.has(peer) }

  /**
   * Asks every connected trusted peer that is not cooling down at once; the first complete
   * answer wins. `undefined` when no such peer is connected, none has it, or none answered
   * within the budget ({@link PEER_TIER_BUDGET_MS}): a peer that failed or did not answer in
   * time is penalised (skipped for a while), so a hung peer costs one bounded wait.
   */
  async fetchActionResult (instanceName: string, actionDigest: Digest, signal: AbortSignal): Promise<Buffer | undefined> {
    const { book } = this.init
    const peers = [...this.trusted].filter((peer) => {
      if (book.isCoolingDown(peer)) return false
      try { return this.init.libp2p.getConnections(peerIdFromString(peer)).length > 0 } catch { return false }
    })
    if (peers.length === 0) return undefined
    const budgetMs = Math.min(this.init.budgetMs ?? PEER_TIER_BUDGET_MS, this.init.stallTimeoutMs)
    const controller = new AbortController()
    const budget = AbortSignal.timeout(budgetMs)
    const combined = AbortSignal.any([signal, controller.signal, budget])
    const started = performance.now()
    try {
      return await new Promise<Buffer | undefined>((resolve) => {
        let pending = peers.length
        for (const peer of peers) {
          this.lookup(peer, instanceName, actionDigest, combined).then((result) => {
            book.recordAnswer(peer, performance.now() - started)
            if (result !== undefined) resolve(result)
          }, (error) => {
            // Cut off by the budget, or failed on its own: either way not worth waiting for soon.
            if (signal.aborted || controller.signal.aborted) return
            const until = book.penalize(peer, Math.max(performance.now() - started, budgetMs))
            this.log.info('trusted peer failed or did not answer an action-result lookup in time; cooling it down', { peer, action: actionDigest.hash, coolingUntil: new Date(until).toISOString(), error })
          }).finally(() => { if (--pending === 0) resolve(undefined) })
        }
      })
    } finally {
      controller.abort()
    }
  }

  /** Asks one peer (trusted or not: the caller decides what to do with the answer). */
  async lookup (peer: string, instanceName: string, actionDigest: Digest, signal: AbortSignal): Promise<Buffer | undefined> {
    let slots = this.lookupSlots.get(peer)
    if (slots === undefined) { slots = new Semaphore(MAX_LOOKUP_STREAMS); this.lookupSlots.set(peer, slots) }
    await slots.acquire(signal)
    try {
      return await this.lookupNow(peer, instanceName, actionDigest, signal)
    } finally {
      slots.release()
    }
  }

  private async lookupNow (peer: string, instanceName: string, actionDigest: Digest, signal: AbortSignal): Promise<Buffer | undefined> {
    const stream = await this.init.libp2p.dialProtocol(peerIdFromString(peer), ACTION_RESULT_PROTOCOL, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.init.stallTimeoutMs)])
    })
    const onAbort = (): void => { stream.abort(new Error('lookup aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const reader = new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs })
      await sendFrame(stream, messages.actionResultRequest.encode({ instanceName, action: toBlobRef(actionDigest) }), { signal, stallTimeoutMs: this.init.stallTimeoutMs })
      await stream.close({ signal })
      const bytes = await reader.readFrame(MAX_ACTION_RESULT_BYTES + 64)
      if (bytes === undefined) throw new PeerMisbehavedError(`peer ${peer} closed the action-result stream without answering`)
      const response = messages.actionResultResponse.decode(bytes)
      return response.found ? Buffer.from(response.actionResult) : undefined
    } finally {
      signal.removeEventListener('abort', onAbort)
      if (stream.status === 'open') stream.abort(new Error('lookup done'))
    }
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const reader = new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs })
    const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
    if (bytes === undefined) { await stream.close(); return }
    const request = messages.actionResultRequest.decode(bytes)
    if (this.init.stall === true) {
      await new Promise((resolve) => { stream.addEventListener('close', resolve, { once: true }) })
      return
    }
    if (request.instanceName.length > MAX_INSTANCE_NAME) throw new MalformedFrameError(`instance name of ${request.instanceName.length} characters`)
    const action = fromBlobRef(request.action)
    const result = await this.init.store.actionCache.get(request.instanceName, action)
    const found = result !== undefined && result.byteLength <= MAX_ACTION_RESULT_BYTES
    await sendFrame(stream, messages.actionResultResponse.encode({ found, actionResult: found ? result : new Uint8Array(0) }), { stallTimeoutMs: this.init.stallTimeoutMs })
    await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) })
    this.log.debug('answered an action-result lookup', { peer: connection.remotePeer.toString(), action: action.hash, found })
  }
}

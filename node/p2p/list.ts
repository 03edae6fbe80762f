import type { Libp2p } from 'libp2p'
import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { parseDigestString } from '../store/digest.js'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { BlobCatalog } from '../store/index.js'
import type { NameIndex } from '../store/name-index.js'
import { LIST_NAMES_PROTOCOL, LIST_PAGE_ENTRIES, LIST_PROTOCOL, MAX_CONTROL_FRAME_BYTES, MAX_NAME_KEY_CHARS } from './constants.js'
import { actionResultName, isNameKind, type NameKind, type ResultName } from '../domain/names.js'
import { fromBlobRef, toBlobRef } from './cid.js'
import { PeerMisbehavedError } from './errors.js'
import { StreamReader, sendFrame } from './framing.js'
import { messages, type ActionEntryMessage, type BlobRefMessage, type ListPageMessage, type ListRequestMessage, type NameEntryMessage } from './messages.js'

/** What {@link ListProtocol} needs. */
export interface ListProtocolInit {
  libp2p: Libp2p
  store: Pick<BlobCatalog, 'digests'> & { readonly names: NameIndex }
  logger: Logger
  stallTimeoutMs: number
}

/** Concurrent listings served per connection (each is a full index scan). */
const MAX_LIST_STREAMS = 2

/**
 * /peercas/list/1.1.0: streams pages of a peer's blob digests or named-result keys of one kind,
 * read from LevelDB in order and sent as fast as the requester reads them. /peercas/list/1.0.0
 * (older nodes) lists blobs and action results only.
 */
export class ListProtocol {
  constructor (private readonly init: ListProtocolInit) {}

  /** Registers the protocol handler. */
  async start (): Promise<void> {
    for (const protocol of [LIST_NAMES_PROTOCOL, LIST_PROTOCOL]) {
      await this.init.libp2p.handle(protocol, (stream, connection) => {
        void this.serve(stream, connection).catch((error) => {
          this.init.logger.debug('list stream failed', { peer: connection.remotePeer.toString(), error })
          stream.abort(error as Error)
        })
      }, { maxInboundStreams: MAX_LIST_STREAMS, maxOutboundStreams: MAX_LIST_STREAMS })
    }
  }

  /** Every blob `peer` holds. */
  async * blobs (peer: string, signal: AbortSignal, sinceMs = 0): AsyncGenerator<Digest> {
    for await (const page of this.pages(peer, () => ({ kind: 'BLOBS', sinceMs }), signal)) {
      for (const ref of page.blobs) yield fromBlobRef(ref)
    }
  }

  /**
   * Every named result of `kind` that `peer` holds. A peer that speaks only 1.0.0 lists action
   * results (as ACTION_RESULTS) and nothing of other kinds.
   */
  async * names (peer: string, kind: NameKind, signal: AbortSignal, sinceMs = 0): AsyncGenerator<ResultName> {
    const pages = this.pages(peer, (protocol) => {
      if (protocol === LIST_NAMES_PROTOCOL) return { kind: 'NAMED_RESULTS', nameKind: kind, sinceMs }
      return kind === 'action-result' ? { kind: 'ACTION_RESULTS', sinceMs } : undefined
    }, signal)
    for await (const page of pages) {
      for (const entry of page.actions) yield actionResultName(entry.instanceName, fromBlobRef(entry.action))
      for (const entry of page.names ?? []) {
        if (entry.key.length === 0 || entry.key.length > MAX_NAME_KEY_CHARS) throw new PeerMisbehavedError(`peer ${peer} listed a ${kind} key of ${entry.key.length} characters`)
        yield { kind, instanceName: entry.instanceName, key: entry.key }
      }
    }
  }

  /** Pages of one listing; `requestFor(protocol)` is what to ask on the protocol the peer chose (`undefined`: nothing to list there). */
  private async * pages (peer: string, requestFor: (protocol: string) => Partial<ListRequestMessage> | undefined, signal: AbortSignal): AsyncGenerator<ListPageMessage> {
    const stream = await this.init.libp2p.dialProtocol(peerIdFromString(peer), [LIST_NAMES_PROTOCOL, LIST_PROTOCOL], { signal: AbortSignal.any([signal, AbortSignal.timeout(this.init.stallTimeoutMs)]) })
    const onAbort = (): void => { stream.abort(new Error('listing aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const request = requestFor(stream.protocol)
      if (request === undefined) return
      const reader = new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs })
      await sendFrame(stream, messages.listRequest.encode(request), { signal })
      await stream.close({ signal })
      for (;;) {
        const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
        if (bytes === undefined) throw new PeerMisbehavedError(`peer ${peer} ended its listing without a last page`)
        const page = messages.listPage.decode(bytes)
        const entries = page.blobs.length + page.actions.length + (page.names ?? []).length
        if (entries > LIST_PAGE_ENTRIES) throw new PeerMisbehavedError(`peer ${peer} sent a list page of ${entries} entries`)
        yield page
        if (page.done) return
      }
    } finally {
      signal.removeEventListener('abort', onAbort)
      if (stream.status === 'open') stream.abort(new Error('listing done'))
    }
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const reader = new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs })
    const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
    if (bytes === undefined) { await stream.close(); return }
    const request = messages.listRequest.decode(bytes)
    const options = { stallTimeoutMs: this.init.stallTimeoutMs }
    const sinceMs = Number(request.sinceMs ?? 0)
    const cutoff = sinceMs > 0 ? Date.now() - sinceMs : 0
    let count = 0
    if (request.kind === 'NAMED_RESULTS') {
      let page: NameEntryMessage[] = []
      // A kind this node does not know (from a newer node): an empty listing.
      const entries = isNameKind(request.nameKind) ? this.init.store.names.entries(request.nameKind, { since: cutoff }) : []
      for await (const entry of entries) {
        page.push({ instanceName: entry.instanceName, key: entry.key })
        if (page.length === LIST_PAGE_ENTRIES) {
          await sendFrame(stream, messages.listPage.encode({ names: page, done: false }), options)
          count += page.length
          page = []
        }
      }
      count += page.length
      await sendFrame(stream, messages.listPage.encode({ names: page, done: true }), options)
    } else if (request.kind === 'ACTION_RESULTS') {
      let page: ActionEntryMessage[] = []
      for await (const entry of this.init.store.names.entries('action-result', { since: cutoff })) {
        let action
        try { action = parseDigestString(entry.key) } catch { continue }
        page.push({ instanceName: entry.instanceName, action: toBlobRef(action) })
        if (page.length === LIST_PAGE_ENTRIES) {
          await sendFrame(stream, messages.listPage.encode({ blobs: [], actions: page, done: false }), options)
          count += page.length
          page = []
        }
      }
      count += page.length
      await sendFrame(stream, messages.listPage.encode({ blobs: [], actions: page, done: true }), options)
    } else {
      let page: BlobRefMessage[] = []
      for await (const digest of this.init.store.digests({ accessedSince: cutoff })) {
        page.push(toBlobRef(digest))
        if (page.length === LIST_PAGE_ENTRIES) {
          await sendFrame(stream, messages.listPage.encode({ blobs: page, actions: [], done: false }), options)
          count += page.length
          page = []
        }
      }
      count += page.length
      await sendFrame(stream, messages.listPage.encode({ blobs: page, actions: [], done: true }), options)
    }
    await stream.close({ signal: AbortSignal.timeout(this.init.stallTimeoutMs) })
    this.init.logger.info('listed entries to a peer', { peer: connection.remotePeer.toString(), kind: request.kind, count })
  }
}

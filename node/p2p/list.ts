import type { Libp2p } from 'libp2p'
import type { Connection, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { parseDigestString } from '../store/digest.js'
import type { Logger } from '../log/logger.js'
import type { Digest } from '../store/digest.js'
import type { BlobCatalog } from '../store/index.js'
import type { NameIndex } from '../store/name-index.js'
import { LIST_PAGE_ENTRIES, LIST_PROTOCOL, MAX_CONTROL_FRAME_BYTES } from './constants.js'
import { fromBlobRef, toBlobRef } from './cid.js'
import { PeerMisbehavedError } from './errors.js'
import { StreamReader, sendFrame } from './framing.js'
import { messages, type ActionEntryMessage, type BlobRefMessage } from './messages.js'

/** What {@link ListProtocol} needs. */
export interface ListProtocolInit {
  libp2p: Libp2p
  store: Pick<BlobCatalog, 'digests'> & { readonly names: NameIndex }
  logger: Logger
  stallTimeoutMs: number
}

/** One action-cache key of a peer. */
export interface ActionKey { instanceName: string, actionDigest: Digest }

/** Concurrent listings served per connection (each is a full index scan). */
const MAX_LIST_STREAMS = 2

/**
 * /peercas/list/1.0.0: streams pages of a peer's blob digests or action-cache keys, read from
 * LevelDB in order and sent as fast as the requester reads them.
 */
export class ListProtocol {
  constructor (private readonly init: ListProtocolInit) {}

  /** Registers the protocol handler. */
  async start (): Promise<void> {
    await this.init.libp2p.handle(LIST_PROTOCOL, (stream, connection) => {
      void this.serve(stream, connection).catch((error) => {
        this.init.logger.debug('list stream failed', { peer: connection.remotePeer.toString(), error })
        stream.abort(error as Error)
      })
    }, { maxInboundStreams: MAX_LIST_STREAMS, maxOutboundStreams: MAX_LIST_STREAMS })
  }

  /** Every blob `peer` holds. */
  async * blobs (peer: string, signal: AbortSignal, sinceMs = 0): AsyncGenerator<Digest> {
    for await (const page of this.pages(peer, 'BLOBS', signal, sinceMs)) {
      for (const ref of page.blobs) yield fromBlobRef(ref)
    }
  }

  /** Every action-cache key `peer` holds. */
  async * actions (peer: string, signal: AbortSignal, sinceMs = 0): AsyncGenerator<ActionKey> {
    for await (const page of this.pages(peer, 'ACTION_RESULTS', signal, sinceMs)) {
      for (const entry of page.actions) yield { instanceName: entry.instanceName, actionDigest: fromBlobRef(entry.action) }
    }
  }

  private async * pages (peer: string, kind: 'BLOBS' | 'ACTION_RESULTS', signal: AbortSignal, sinceMs: number): AsyncGenerator<{ blobs: BlobRefMessage[], actions: ActionEntryMessage[] }> {
    const stream = await this.init.libp2p.dialProtocol(peerIdFromString(peer), LIST_PROTOCOL, { signal: AbortSignal.any([signal, AbortSignal.timeout(this.init.stallTimeoutMs)]) })
    const onAbort = (): void => { stream.abort(new Error('listing aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const reader = new StreamReader(stream, { stallTimeoutMs: this.init.stallTimeoutMs })
      await sendFrame(stream, messages.listRequest.encode({ kind, sinceMs }), { signal })
      await stream.close({ signal })
      for (;;) {
        const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
        if (bytes === undefined) throw new PeerMisbehavedError(`peer ${peer} ended its listing without a last page`)
        const page = messages.listPage.decode(bytes)
        if (page.blobs.length + page.actions.length > LIST_PAGE_ENTRIES) throw new PeerMisbehavedError(`peer ${peer} sent a list page of ${page.blobs.length + page.actions.length} entries`)
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
    if (request.kind === 'ACTION_RESULTS') {
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

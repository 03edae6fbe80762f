import type { Sublevel } from '../store/index-db.js'
import type { Digest } from '../store/digest.js'
import { isNameKind, nameId, type ResultName } from '../domain/names.js'

/** An action result waiting to be uploaded. */
export interface QueuedAction {
  /** Database key; also orders actions by arrival. */
  readonly key: string
  readonly instanceName: string
  readonly actionDigest: Digest
}

/** A named result other than an action result (an asset mapping, a BuildStream ref) waiting to be pushed. */
export interface QueuedName {
  /** Database key; also orders names by arrival. */
  readonly key: string
  readonly name: ResultName
}

const BLOB_PREFIX = 'b/'
const ACTION_PREFIX = 'a/'
// Added after blobs and actions; a node from before ignores these entries (it knows no other prefix).
const NAME_PREFIX = 'n/'

/**
 * The durable write-behind queue: blobs and action results waiting for the central. Every change
 * is written to a LevelDB sublevel of the node's index (so it survives crashes and restarts) and
 * mirrored in memory (for the eviction guard, status and the drain loop). Writes are applied in
 * order, batched per tick.
 */
export class UploadQueue {
  private readonly blobs = new Map<string, number>()
  private readonly actions = new Map<string, QueuedAction>()
  private readonly actionKeys = new Map<string, string>()
  private readonly names = new Map<string, QueuedName>()
  private readonly nameKeys = new Map<string, string>()
  private queuedBytes = 0
  private seq = 0
  private ops: Array<{ type: 'put', key: string, value: Buffer } | { type: 'del', key: string }> = []
  private persisting: Promise<void> = Promise.resolve()
  private flushScheduled = false
  private readonly listeners: Array<() => void> = []
  private persistError: Error | undefined

  private constructor (private readonly db: Sublevel) {}

  /** Opens the queue, loading what an earlier run left in `db`. */
  static async open (db: Sublevel): Promise<UploadQueue> {
    const queue = new UploadQueue(db)
    for await (const [key, value] of db.iterator()) {
      if (key.startsWith(BLOB_PREFIX)) {
        const size = Number(value.toString('utf8'))
        queue.blobs.set(key.slice(BLOB_PREFIX.length), size)
        queue.queuedBytes += size
      } else if (key.startsWith(ACTION_PREFIX)) {
        const parsed = JSON.parse(value.toString('utf8')) as { i: string, h: string, s: number }
        const item: QueuedAction = { key, instanceName: parsed.i, actionDigest: { hash: parsed.h, sizeBytes: parsed.s } }
        queue.actions.set(key, item)
        queue.actionKeys.set(actionId(item.instanceName, item.actionDigest), key)
        queue.seq = Math.max(queue.seq, parseInt(key.slice(ACTION_PREFIX.length), 16) + 1)
      } else if (key.startsWith(NAME_PREFIX)) {
        const parsed = JSON.parse(value.toString('utf8')) as { k: string, i: string, e: string, y: string }
        if (!isNameKind(parsed.k)) continue
        const item: QueuedName = { key, name: { kind: parsed.k, instanceName: parsed.i, environment: parsed.e, key: parsed.y } }
        queue.names.set(key, item)
        queue.nameKeys.set(nameId(item.name), key)
        queue.seq = Math.max(queue.seq, parseInt(key.slice(NAME_PREFIX.length), 16) + 1)
      }
    }
    return queue
  }

  /** Queued blobs, action results and other named results. */
  get length (): number { return this.blobs.size + this.actions.size + this.names.size }

  /** Bytes of queued blobs. */
  get bytes (): number { return this.queuedBytes }

  /** Calls `listener` whenever items are added. */
  onAdded (listener: () => void): void { this.listeners.push(listener) }

  /** True while the blob is queued (the eviction guard). */
  hasBlob (hash: string): boolean { return this.blobs.has(hash) }

  /** Queues blobs (already queued ones are ignored). Returns how many were new. */
  addBlobs (digests: readonly Digest[]): number {
    let added = 0
    for (const d of digests) {
      if (d.sizeBytes === 0 || this.blobs.has(d.hash)) continue
      this.blobs.set(d.hash, d.sizeBytes)
      this.queuedBytes += d.sizeBytes
      this.ops.push({ type: 'put', key: BLOB_PREFIX + d.hash, value: Buffer.from(String(d.sizeBytes)) })
      added++
    }
    if (added > 0) this.changed(true)
    return added
  }

  /** Queues an action result (again, if it was already queued: the newest result wins on upload). */
  addAction (instanceName: string, actionDigest: Digest): void {
    if (this.actionKeys.has(actionId(instanceName, actionDigest))) return
    const key = ACTION_PREFIX + (this.seq++).toString(16).padStart(16, '0')
    const item: QueuedAction = { key, instanceName, actionDigest }
    this.actions.set(key, item)
    this.actionKeys.set(actionId(instanceName, actionDigest), key)
    this.ops.push({ type: 'put', key, value: Buffer.from(JSON.stringify({ i: instanceName, h: actionDigest.hash, s: actionDigest.sizeBytes })) })
    this.changed(true)
  }

  /** Queues a named result other than an action result (again, if already queued: the newest value wins on upload). */
  addName (name: ResultName): void {
    if (this.nameKeys.has(nameId(name))) return
    const key = NAME_PREFIX + (this.seq++).toString(16).padStart(16, '0')
    const item: QueuedName = { key, name }
    this.names.set(key, item)
    this.nameKeys.set(nameId(name), key)
    this.ops.push({ type: 'put', key, value: Buffer.from(JSON.stringify({ k: name.kind, i: name.instanceName, e: name.environment, y: name.key })) })
    this.changed(true)
  }

  /** Up to `n` queued named results (other than action results) in arrival order. */
  peekNames (n: number): QueuedName[] {
    const out: QueuedName[] = []
    for (const item of this.names.values()) {
      if (out.length >= n) break
      out.push(item)
    }
    return out
  }

  /** Removes a named result (pushed, or refused by the central). */
  removeName (item: QueuedName): void {
    if (!this.names.delete(item.key)) return
    this.nameKeys.delete(nameId(item.name))
    this.ops.push({ type: 'del', key: item.key })
    this.changed(false)
  }

  /** Up to `n` queued blobs in arrival order. */
  peekBlobs (n: number): Digest[] {
    const out: Digest[] = []
    for (const [hash, sizeBytes] of this.blobs) {
      if (out.length >= n) break
      out.push({ hash, sizeBytes })
    }
    return out
  }

  /** Up to `n` queued action results in arrival order. */
  peekActions (n: number): QueuedAction[] {
    return [...this.actions.values()].slice(0, n)
  }

  /** Removes blobs (uploaded, or found on the central). */
  removeBlobs (hashes: Iterable<string>): void {
    let removed = false
    for (const hash of hashes) {
      const size = this.blobs.get(hash)
      if (size === undefined) continue
      this.blobs.delete(hash)
      this.queuedBytes -= size
      this.ops.push({ type: 'del', key: BLOB_PREFIX + hash })
      removed = true
    }
    if (removed) this.changed(false)
  }

  /** Removes an action result (uploaded, or refused by the central). */
  removeAction (item: QueuedAction): void {
    if (!this.actions.delete(item.key)) return
    this.actionKeys.delete(actionId(item.instanceName, item.actionDigest))
    this.ops.push({ type: 'del', key: item.key })
    this.changed(false)
  }

  /** Resolves once every change so far is on disk. */
  async settled (): Promise<void> {
    this.flushOps()
    await this.persisting
    if (this.persistError !== undefined) throw this.persistError
  }

  private changed (added: boolean): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(() => { this.flushOps() })
    }
    if (added) for (const listener of this.listeners) listener()
  }

  private flushOps (): void {
    this.flushScheduled = false
    if (this.ops.length === 0) return
    const ops = this.ops
    this.ops = []
    this.persisting = this.persisting.then(async () => {
      await this.db.batch(ops.map((op) => op.type === 'put' ? { type: 'put' as const, key: op.key, value: op.value } : { type: 'del' as const, key: op.key }))
    }).catch((error) => { this.persistError = error as Error })
  }
}

function actionId (instanceName: string, digest: Digest): string {
  return `${instanceName}\0${digest.hash}/${digest.sizeBytes}`
}

import type { NameKind, ResultName } from '../domain/names.js'
import { indexGet, writeBatch, type IndexDb, type IndexOp, type Sublevel } from './index-db.js'

/** Who vouches for a stored entry (see node/trust/signatures.ts); the index only keeps it. */
export interface StoredSignature {
  readonly signer: string
  readonly signedAtMs: number
  readonly signature: Uint8Array
}

/** A stored value with its signature (none for entries written before entries were signed). */
export interface NameRecord {
  readonly value: Buffer
  readonly signature?: StoredSignature
}

/** One entry of a listing: the name without its kind (the listing is per kind). */
export interface NameEntry {
  instanceName: string
  environment: string
  key: string
}

/**
 * Named results (action results, and later asset mappings and refs): a name maps to value bytes
 * and the signature of who vouches for them. Names that differ in kind, instance, environment or
 * key never see each other's entries. Each entry's write time is kept beside it (`peercas sync
 * --since`). The index stores whatever it is given: deciding that a value is usable (complete,
 * trusted) is the resolver's business (node/resolve/named-results.ts, node/trust/).
 */
export interface NameIndex {
  /** The stored value, or `undefined` on a miss. */
  get(name: ResultName): Promise<Buffer | undefined>
  /** The stored value and its signature, or `undefined` on a miss. */
  getRecord(name: ResultName): Promise<NameRecord | undefined>
  /** Stores (or replaces) a value, its signature and the time it was written, atomically. */
  put(name: ResultName, value: Buffer, signature?: StoredSignature): Promise<void>
  /** Forgets an entry (used when a result is no longer complete or its signer is revoked). */
  delete(name: ResultName): Promise<void>
  /**
   * Every entry of one kind, in key order, optionally only those written in the last `since` ms
   * (entries from before write times were recorded are always included). Reads keys in batches;
   * never loads them all.
   */
  entries(kind: NameKind, options?: { since?: number }): AsyncGenerator<NameEntry>
  /** Every entry of one kind with its signer (`undefined`: unsigned), in batches. */
  signers(kind: NameKind): AsyncGenerator<{ name: ResultName, signer: string | undefined }>
  /** Counts the entries of one kind (a full scan of keys; for status and tests, not hot paths). */
  count(kind: NameKind): Promise<number>
}

/** Where one kind's entries, their write times and their signatures live. */
interface KindSublevels { values: Sublevel, times: Sublevel, signatures: Sublevel }

/** Keys read per batch when listing. */
const LIST_BATCH = 256

/**
 * {@link NameIndex} in the store's LevelDB. Action results keep the sublevels they had before
 * there were other kinds (`ac`, `act`; signatures in `acs`), so existing caches need no
 * migration; each later kind gets its own (`name:<kind>`, `name-time:<kind>`, `name-sig:<kind>`).
 * Keys are `instance \0 key` in the default environment and `instance \x01 environment \0 key`
 * in others: neither control character can occur in a validated instance name or environment
 * ID, so keys never collide, and entries from before environments existed keep their keys.
 */
export class LevelNameIndex implements NameIndex {
  private readonly sublevels = new Map<NameKind, KindSublevels>()

  constructor (private readonly index: Pick<IndexDb, 'db' | 'actions' | 'actionTimes'>) {}

  async get (name: ResultName): Promise<Buffer | undefined> {
    return await indexGet(this.of(name.kind).values, entryKey(name))
  }

  async getRecord (name: ResultName): Promise<NameRecord | undefined> {
    const { values, signatures } = this.of(name.kind)
    const key = entryKey(name)
    const [value, signature] = await Promise.all([values.get(key), signatures.get(key)])
    if (value === undefined) return undefined
    return { value, signature: signature === undefined ? undefined : decodeSignature(signature) }
  }

  async put (name: ResultName, value: Buffer, signature?: StoredSignature): Promise<void> {
    const { values, times, signatures } = this.of(name.kind)
    const key = entryKey(name)
    const time = Buffer.allocUnsafe(8)
    time.writeDoubleLE(Date.now())
    const ops: IndexOp[] = [
      { type: 'put', sublevel: values, key, value },
      { type: 'put', sublevel: times, key, value: time },
      signature === undefined ? { type: 'del', sublevel: signatures, key } : { type: 'put', sublevel: signatures, key, value: encodeSignature(signature) }
    ]
    await writeBatch(this.index, ops)
  }

  async delete (name: ResultName): Promise<void> {
    const { values, times, signatures } = this.of(name.kind)
    const key = entryKey(name)
    await writeBatch(this.index, [
      { type: 'del', sublevel: values, key },
      { type: 'del', sublevel: times, key },
      { type: 'del', sublevel: signatures, key }
    ])
  }

  async * entries (kind: NameKind, { since = 0 }: { since?: number } = {}): AsyncGenerator<NameEntry> {
    const { times } = this.of(kind)
    for await (const batch of this.keyBatches(kind)) {
      const written = since > 0 ? await times.getMany(batch) : []
      for (let i = 0; i < batch.length; i++) {
        const time = written[i]
        // Entries without a recorded write time predate it: keep them (sync more, not less).
        if (since > 0 && time !== undefined && time.readDoubleLE(0) < since) continue
        const entry = parseEntryKey(batch[i]!)
        if (entry !== undefined) yield entry
      }
    }
  }

  async * signers (kind: NameKind): AsyncGenerator<{ name: ResultName, signer: string | undefined }> {
    const { signatures } = this.of(kind)
    for await (const batch of this.keyBatches(kind)) {
      const records = await signatures.getMany(batch)
      for (let i = 0; i < batch.length; i++) {
        const entry = parseEntryKey(batch[i]!)
        if (entry === undefined) continue
        const record = records[i]
        yield { name: { kind, ...entry }, signer: record === undefined ? undefined : decodeSignature(record).signer }
      }
    }
  }

  async count (kind: NameKind): Promise<number> {
    let n = 0
    for await (const _key of this.of(kind).values.keys()) n++
    return n
  }

  private async * keyBatches (kind: NameKind): AsyncGenerator<string[]> {
    let batch: string[] = []
    for await (const key of this.of(kind).values.keys()) {
      batch.push(key)
      if (batch.length >= LIST_BATCH) { yield batch; batch = [] }
    }
    if (batch.length > 0) yield batch
  }

  private of (kind: NameKind): KindSublevels {
    let found = this.sublevels.get(kind)
    if (found === undefined) {
      found = kind === 'action-result'
        ? { values: this.index.actions, times: this.index.actionTimes, signatures: this.open('acs') }
        : { values: this.open(`name:${kind}`), times: this.open(`name-time:${kind}`), signatures: this.open(`name-sig:${kind}`) }
      this.sublevels.set(kind, found)
    }
    return found
  }

  private open (name: string): Sublevel {
    return this.index.db.sublevel<string, Buffer>(name, { keyEncoding: 'utf8', valueEncoding: 'buffer' }) as Sublevel
  }
}

function entryKey (name: ResultName): string {
  return name.environment === '' ? `${name.instanceName}\0${name.key}` : `${name.instanceName}\x01${name.environment}\0${name.key}`
}

function parseEntryKey (key: string): NameEntry | undefined {
  const nul = key.indexOf('\0')
  if (nul < 0) return undefined
  const scope = key.slice(0, nul)
  const soh = scope.indexOf('\x01')
  return soh < 0
    ? { instanceName: scope, environment: '', key: key.slice(nul + 1) }
    : { instanceName: scope.slice(0, soh), environment: scope.slice(soh + 1), key: key.slice(nul + 1) }
}

/** signer length (u16 BE), signer (UTF-8), signed-at ms (f64 LE), signature bytes. */
function encodeSignature (s: StoredSignature): Buffer {
  const signer = Buffer.from(s.signer, 'utf8')
  const out = Buffer.allocUnsafe(2 + signer.byteLength + 8 + s.signature.byteLength)
  out.writeUInt16BE(signer.byteLength, 0)
  signer.copy(out, 2)
  out.writeDoubleLE(s.signedAtMs, 2 + signer.byteLength)
  out.set(s.signature, 2 + signer.byteLength + 8)
  return out
}

function decodeSignature (bytes: Buffer): StoredSignature {
  const length = bytes.readUInt16BE(0)
  return {
    signer: bytes.subarray(2, 2 + length).toString('utf8'),
    signedAtMs: bytes.readDoubleLE(2 + length),
    signature: Uint8Array.from(bytes.subarray(2 + length + 8))
  }
}

import type { NameKind, ResultName } from '../domain/names.js'
import { writeBatch, type IndexDb, type Sublevel } from './index-db.js'

/** One entry of a listing: the name without its kind (the listing is per kind). */
export interface NameEntry {
  instanceName: string
  key: string
}

/**
 * Named results (action results, and later asset mappings and refs): a name maps to value bytes.
 * Kinds and instances never see each other's entries. Each entry's write time is kept beside it
 * (`peercas sync --since`). The index stores whatever bytes it is given: deciding that a value is
 * usable (complete, trusted) is the resolver's business (node/resolve/named-results.ts).
 */
export interface NameIndex {
  /** The stored value, or `undefined` on a miss. */
  get(name: ResultName): Promise<Buffer | undefined>
  /** Stores (or replaces) the value of a name, with the time it was written, atomically. */
  put(name: ResultName, value: Buffer): Promise<void>
  /** Forgets an entry (used when a result is no longer complete). */
  delete(name: ResultName): Promise<void>
  /**
   * Every entry of one kind, in key order, optionally only those written in the last `since` ms
   * (entries from before write times were recorded are always included). Reads keys in batches;
   * never loads them all.
   */
  entries(kind: NameKind, options?: { since?: number }): AsyncGenerator<NameEntry>
  /** Counts the entries of one kind (a full scan of keys; for status and tests, not hot paths). */
  count(kind: NameKind): Promise<number>
}

/** Where one kind's entries and their write times live. */
interface KindSublevels { values: Sublevel, times: Sublevel }

/** Keys read per batch when listing. */
const LIST_BATCH = 256

/**
 * {@link NameIndex} in the store's LevelDB. Action results keep the sublevels they had before
 * there were other kinds (`ac`, `act`), so existing caches need no migration; each later kind
 * gets its own pair (`name:<kind>`, `name-time:<kind>`). Keys are `instance \0 key`: `\0`
 * cannot occur in an instance name that passed validation, so keys never collide.
 */
export class LevelNameIndex implements NameIndex {
  private readonly sublevels = new Map<NameKind, KindSublevels>()

  constructor (private readonly index: Pick<IndexDb, 'db' | 'actions' | 'actionTimes'>) {}

  async get (name: ResultName): Promise<Buffer | undefined> {
    return await this.of(name.kind).values.get(entryKey(name))
  }

  async put (name: ResultName, value: Buffer): Promise<void> {
    const { values, times } = this.of(name.kind)
    const key = entryKey(name)
    const time = Buffer.allocUnsafe(8)
    time.writeDoubleLE(Date.now())
    await writeBatch(this.index, [
      { type: 'put', sublevel: values, key, value },
      { type: 'put', sublevel: times, key, value: time }
    ])
  }

  async delete (name: ResultName): Promise<void> {
    const { values, times } = this.of(name.kind)
    const key = entryKey(name)
    await writeBatch(this.index, [
      { type: 'del', sublevel: values, key },
      { type: 'del', sublevel: times, key }
    ])
  }

  async * entries (kind: NameKind, { since = 0 }: { since?: number } = {}): AsyncGenerator<NameEntry> {
    const { values, times } = this.of(kind)
    let batch: string[] = []
    const flush = async function * (): AsyncGenerator<NameEntry> {
      const written = since > 0 ? await times.getMany(batch) : []
      for (let i = 0; i < batch.length; i++) {
        const time = written[i]
        // Entries without a recorded write time predate it: keep them (sync more, not less).
        if (since > 0 && time !== undefined && time.readDoubleLE(0) < since) continue
        const key = batch[i]!
        const nul = key.indexOf('\0')
        if (nul < 0) continue
        yield { instanceName: key.slice(0, nul), key: key.slice(nul + 1) }
      }
      batch = []
    }
    for await (const key of values.keys()) {
      batch.push(key)
      if (batch.length >= LIST_BATCH) yield * flush()
    }
    yield * flush()
  }

  async count (kind: NameKind): Promise<number> {
    let n = 0
    for await (const _key of this.of(kind).values.keys()) n++
    return n
  }

  private of (kind: NameKind): KindSublevels {
    let found = this.sublevels.get(kind)
    if (found === undefined) {
      found = kind === 'action-result'
        ? { values: this.index.actions, times: this.index.actionTimes }
        : { values: this.open(`name:${kind}`), times: this.open(`name-time:${kind}`) }
      this.sublevels.set(kind, found)
    }
    return found
  }

  private open (name: string): Sublevel {
    return this.index.db.sublevel<string, Buffer>(name, { keyEncoding: 'utf8', valueEncoding: 'buffer' }) as Sublevel
  }
}

function entryKey (name: ResultName): string {
  return `${name.instanceName}\0${name.key}`
}

import type { Digest } from './digest.js'
import { writeBatch, type IndexDb } from './index-db.js'

/**
 * Serialized ActionResults keyed by instance name and action digest. Different instance names
 * never see each other's results. Each entry's write time is kept beside it (`peercas sync
 * --since`); entries from before write times were recorded have none.
 */
export class ActionCacheStore {
  constructor (private readonly index: Pick<IndexDb, 'db' | 'actions' | 'actionTimes'>) {}

  /** The stored ActionResult bytes, or `undefined` on a miss. */
  async get (instanceName: string, actionDigest: Digest): Promise<Buffer | undefined> {
    return await this.index.actions.get(actionKey(instanceName, actionDigest))
  }

  /** Stores (or replaces) the ActionResult for an action. */
  async put (instanceName: string, actionDigest: Digest, result: Buffer): Promise<void> {
    const key = actionKey(instanceName, actionDigest)
    const time = Buffer.allocUnsafe(8)
    time.writeDoubleLE(Date.now())
    await writeBatch(this.index, [
      { type: 'put', sublevel: this.index.actions, key, value: result },
      { type: 'put', sublevel: this.index.actionTimes, key, value: time }
    ])
  }

  /** Forgets an entry (used when its outputs are gone). */
  async delete (instanceName: string, actionDigest: Digest): Promise<void> {
    const key = actionKey(instanceName, actionDigest)
    await writeBatch(this.index, [
      { type: 'del', sublevel: this.index.actions, key },
      { type: 'del', sublevel: this.index.actionTimes, key }
    ])
  }

  /**
   * Iterates over the key of every entry (instance name and action digest), in key order, for
   * listing to a peer during `peercas sync`. Reads keys in batches; never loads them all.
   */
  async * entries ({ since = 0 }: { since?: number } = {}): AsyncGenerator<{ instanceName: string, actionDigest: Digest }> {
    let batch: string[] = []
    const flush = async function * (this: ActionCacheStore): AsyncGenerator<{ instanceName: string, actionDigest: Digest }> {
      // Entries without a recorded write time predate it: keep them (sync more, not less).
      const times = since > 0 ? await this.index.actionTimes.getMany(batch) : []
      for (let i = 0; i < batch.length; i++) {
        const time = times[i]
        if (since > 0 && time !== undefined && time.readDoubleLE(0) < since) continue
        const key = batch[i]!
        const nul = key.indexOf('\0')
        const slash = key.lastIndexOf('/')
        if (nul < 0 || slash < nul) continue
        yield { instanceName: key.slice(0, nul), actionDigest: { hash: key.slice(nul + 1, slash), sizeBytes: Number(key.slice(slash + 1)) } }
      }
      batch = []
    }
    for await (const key of this.index.actions.keys()) {
      batch.push(key)
      if (batch.length >= 256) yield * flush.call(this)
    }
    yield * flush.call(this)
  }

  /** Counts entries (a full scan of keys; for status and tests, not hot paths). */
  async count (): Promise<number> {
    let n = 0
    for await (const _key of this.index.actions.keys()) n++
    return n
  }
}

function actionKey (instanceName: string, digest: Digest): string {
  // \0 cannot occur in an instance name that passed validation, so keys never collide.
  return `${instanceName}\0${digest.hash}/${digest.sizeBytes}`
}

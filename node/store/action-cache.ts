import type { Digest } from './digest.js'

/** The subset of a LevelDB sublevel the action cache uses. */
interface ActionSublevel {
  get(key: string): Promise<Buffer | undefined>
  put(key: string, value: Buffer): Promise<void>
  del(key: string): Promise<void>
  keys(options?: { gte?: string, lt?: string }): AsyncIterable<string>
}

/**
 * Serialized ActionResults keyed by instance name and action digest. Different instance names
 * never see each other's results.
 */
export class ActionCacheStore {
  /**
   * @param sublevel entries: key → serialized ActionResult
   * @param writeTimes the same keys → time written (8-byte float ms); entries from before write
   *   times were recorded have none
   */
  constructor (private readonly sublevel: ActionSublevel, private readonly writeTimes: ActionSublevel & { getMany(keys: string[]): Promise<Array<Buffer | undefined>> }) {}

  /** The stored ActionResult bytes, or `undefined` on a miss. */
  async get (instanceName: string, actionDigest: Digest): Promise<Buffer | undefined> {
    return await this.sublevel.get(actionKey(instanceName, actionDigest))
  }

  /** Stores (or replaces) the ActionResult for an action. */
  async put (instanceName: string, actionDigest: Digest, result: Buffer): Promise<void> {
    const key = actionKey(instanceName, actionDigest)
    await this.sublevel.put(key, result)
    const time = Buffer.allocUnsafe(8)
    time.writeDoubleLE(Date.now())
    await this.writeTimes.put(key, time)
  }

  /** Forgets an entry (used when its outputs are gone). */
  async delete (instanceName: string, actionDigest: Digest): Promise<void> {
    const key = actionKey(instanceName, actionDigest)
    await this.sublevel.del(key)
    await this.writeTimes.del(key)
  }

  /**
   * Iterates over the key of every entry (instance name and action digest), in key order, for
   * listing to a peer during `peercas sync`. Reads keys in batches; never loads them all.
   */
  async * entries ({ since = 0 }: { since?: number } = {}): AsyncGenerator<{ instanceName: string, actionDigest: Digest }> {
    let batch: string[] = []
    const flush = async function * (this: ActionCacheStore): AsyncGenerator<{ instanceName: string, actionDigest: Digest }> {
      // Entries without a recorded write time predate it: keep them (sync more, not less).
      const times = since > 0 ? await this.writeTimes.getMany(batch) : []
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
    for await (const key of this.sublevel.keys()) {
      batch.push(key)
      if (batch.length >= 256) yield * flush.call(this)
    }
    yield * flush.call(this)
  }

  /** Counts entries (a full scan of keys; for status and tests, not hot paths). */
  async count (): Promise<number> {
    let n = 0
    for await (const _key of this.sublevel.keys()) n++
    return n
  }
}

function actionKey (instanceName: string, digest: Digest): string {
  // \0 cannot occur in an instance name that passed validation, so keys never collide.
  return `${instanceName}\0${digest.hash}/${digest.sizeBytes}`
}

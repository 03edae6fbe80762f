import { silentLogger, type Logger } from '../log/logger.js'
import { describeName, type NameKind, type ResultName } from '../domain/names.js'
import type { NameIndex } from '../store/name-index.js'
import type { NamedResultRule } from './named-result-rules.js'
import type { TieredResolver } from './tiered-resolver.js'

/** A tier that can look named results up (trusted peers, the central CAS). */
export interface NameFetcher {
  /** Which tier this is, for logs and counters. */
  readonly tier: 'peer' | 'remote'
  /**
   * The value bytes this tier holds for `name`, or `undefined` (not there, kind not served by
   * this tier, tier offline). Judging the value (trust, completeness) is the caller's business,
   * except that a tier answers only from sources the trust policy allows.
   */
  fetchNamed(name: ResultName, signal: AbortSignal): Promise<Buffer | undefined>
}

/** Lookups of one kind, as shown by `peercas status`. */
export interface NameCounters {
  hits: number
  misses: number
}

/** Options of {@link NamedResultResolver}. */
export interface NamedResultResolverInit {
  /** Where names are stored locally. */
  index: NameIndex
  /** The blob read path the completeness rules check reachability through. */
  blobs: TieredResolver
  /** One rule per kind served; a kind without a rule is refused. */
  rules: readonly NamedResultRule[]
  /** Tried in order after the local index. @default [] */
  fetchers?: readonly NameFetcher[]
  /** Called after a local client wrote a name (queues the upload to the central). */
  onWritten?: (name: ResultName) => Promise<void> | void
  logger?: Logger
}

/**
 * The read path of named results, beside the blob resolver: local index → each fetcher in order
 * (peers the trust policy allows, then the central) → miss. A value is served only if its kind's
 * completeness rule holds (an ActionResult only if every blob it references is reachable); an
 * incomplete local entry is forgotten, an incomplete answer from a tier is skipped. A value found
 * in a later tier is stored locally (in canonical form) before it is served.
 */
export class NamedResultResolver {
  private readonly rules: Map<NameKind, NamedResultRule>
  private readonly fetchers: readonly NameFetcher[]
  private readonly log: Logger
  private readonly counters = new Map<NameKind, NameCounters>()

  constructor (private readonly init: NamedResultResolverInit) {
    this.rules = new Map(init.rules.map((rule) => [rule.kind, rule]))
    this.fetchers = init.fetchers ?? []
    this.log = init.logger ?? silentLogger
  }

  /** The value of a complete result for `name` (served as stored), or `undefined` on a miss. */
  async get (name: ResultName, signal: AbortSignal): Promise<Buffer | undefined> {
    const value = await this.lookup(name, signal)
    const counters = this.countersOf(name.kind)
    if (value === undefined) counters.misses++; else counters.hits++
    return value
  }

  /** Stores a value a local client wrote (validated by its kind's rule; throws naming the bad field). */
  async put (name: ResultName, value: Buffer): Promise<void> {
    const stored = this.ruleOf(name.kind).validate(value)
    await this.init.index.put(name, stored)
    await this.init.onWritten?.(name)
  }

  /** Hits and misses of one kind since start. */
  countersOf (kind: NameKind): NameCounters {
    let counters = this.counters.get(kind)
    if (counters === undefined) {
      counters = { hits: 0, misses: 0 }
      this.counters.set(kind, counters)
    }
    return counters
  }

  private async lookup (name: ResultName, signal: AbortSignal): Promise<Buffer | undefined> {
    const rule = this.ruleOf(name.kind)
    const local = await this.init.index.get(name)
    if (local !== undefined) {
      const problem = await rule.checkComplete(local, this.init.blobs, signal)
      if (problem === undefined) return local
      this.log.info('stored named result is not complete; treating it as a miss', { name: describeName(name), ...problem })
      await this.init.index.delete(name)
    }
    for (const fetcher of this.fetchers) {
      const answer = await fetcher.fetchNamed(name, signal).catch((error) => {
        this.log.warn('named-result lookup in another tier failed', { tier: fetcher.tier, name: describeName(name), error })
        return undefined
      })
      if (answer === undefined) continue
      const value = rule.normalize(answer)
      if (value === undefined) {
        this.log.info('another tier answered with a value that does not decode; skipped', { tier: fetcher.tier, name: describeName(name) })
        continue
      }
      const problem = await rule.checkComplete(value, this.init.blobs, signal)
      if (problem !== undefined) {
        this.log.debug('another tier answered with an incomplete result; skipped', { tier: fetcher.tier, name: describeName(name), ...problem })
        continue
      }
      await this.init.index.put(name, value)
      return value
    }
    return undefined
  }

  private ruleOf (kind: NameKind): NamedResultRule {
    const rule = this.rules.get(kind)
    if (rule === undefined) throw new RangeError(`named results of kind ${kind} are not served by this node`)
    return rule
  }
}

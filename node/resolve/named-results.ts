import { silentLogger, type Logger } from '../log/logger.js'
import { describeName, nameId, type NameKind, type ResultName } from '../domain/names.js'
import type { NameIndex } from '../store/name-index.js'
import type { NamedResultRule } from './named-result-rules.js'
import type { TieredResolver } from './tiered-resolver.js'
import { isJudged, type JudgedAnswer, type NamedAnswer, type TrustPolicy } from '../trust/policy.js'
import type { ResultSigner } from '../trust/signatures.js'
import type { Qualifier } from '../domain/assets.js'
import { ACCESS_TIME_GRANULARITY_MS } from '../store/constants.js'

/**
 * What a lookup knows of a name beyond its key, for a tier that cannot look a hashed key up: the
 * central's Remote Asset service is asked by URI, so an asset lookup carries the URI and
 * qualifiers its key was made from, and whether a blob (FetchBlob) or a tree is wanted.
 */
export interface NameHint {
  readonly asset?: { readonly uri: string, readonly qualifiers: readonly Qualifier[], readonly want: 'blob' | 'directory' }
}

/** A tier that can look named results up (trusted peers, the central CAS). */
export interface NameFetcher {
  /** Which tier this is, for logs and counters. */
  readonly tier: 'peer' | 'remote'
  /**
   * What this tier holds for `name` (value, signature, who answered), or `undefined` (not there,
   * kind not served by this tier, tier offline). The caller judges the answer (trust policy,
   * completeness); a tier that asks several sources may use the same policy to pick one, and
   * then returns its verdict with the answer ({@link JudgedAnswer}), which the caller uses
   * instead of judging it again. `hint` is what the caller knows beyond the key (see {@link NameHint}).
   */
  fetchNamed(name: ResultName, signal: AbortSignal, hint?: NameHint): Promise<NamedAnswer | JudgedAnswer | undefined>
}

/**
 * How long a completeness check of a stored result is reused: as long as the local store has
 * removed no blob since, and the stored value is the one checked, a lookup within this time
 * serves the result without walking its references again. Half the store's access-time
 * granularity: the check notes the referenced blobs as used, and a reuse does not.
 */
export const COMPLETENESS_REUSE_MS = ACCESS_TIME_GRANULARITY_MS / 2

/** Results whose last completeness check is remembered (the most recently checked are kept). */
export const COMPLETENESS_MEMO_ENTRIES = 20_000

/** A result found complete: the bytes checked, the store's removal count before the check, and when it ran. */
interface CompletenessCheck {
  readonly value: Buffer
  readonly removals: number
  readonly at: number
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
  /** Judges every answer from another tier (the same policy for every kind). */
  policy: TrustPolicy
  /** Signs what local clients write, and what this node vouches for (answers without a signature). */
  signer: ResultSigner
  /** Tried in order after the local index. @default [] */
  fetchers?: readonly NameFetcher[]
  /** Called after a local client wrote a name (queues the upload to the central). */
  onWritten?: (name: ResultName) => Promise<void> | void
  logger?: Logger
}

/**
 * The read path of named results, beside the blob resolver: local index → each fetcher in order
 * (peers, then the central) → miss. An answer from another tier is used only if the trust policy
 * accepts it (node/trust/policy.ts) and its kind's completeness rule holds (an ActionResult only
 * if every blob it references is reachable); an incomplete local entry is forgotten, a refused or
 * incomplete answer skipped. A value found in a later tier is stored locally, with the signature
 * it came with (or signed by this node, which then vouches for it), before it is served.
 */
export class NamedResultResolver {
  private readonly rules: Map<NameKind, NamedResultRule>
  private readonly fetchers: readonly NameFetcher[]
  private readonly log: Logger
  private readonly counters = new Map<NameKind, NameCounters>()
  /** By {@link nameId}, oldest check first; see {@link COMPLETENESS_REUSE_MS}. */
  private readonly checked = new Map<string, CompletenessCheck>()

  constructor (private readonly init: NamedResultResolverInit) {
    this.rules = new Map(init.rules.map((rule) => [rule.kind, rule]))
    this.fetchers = init.fetchers ?? []
    this.log = init.logger ?? silentLogger
  }

  /**
   * The value of a complete result for `name` (served as stored), or `undefined` on a miss.
   * `hint` is passed to the other tiers (see {@link NameHint}).
   */
  async get (name: ResultName, signal: AbortSignal, hint?: NameHint): Promise<Buffer | undefined> {
    const value = await this.lookup(name, signal, hint)
    const counters = this.countersOf(name.kind)
    if (value === undefined) counters.misses++; else counters.hits++
    return value
  }

  /** Stores a value a local client wrote (validated by its kind's rule; throws naming the bad field). */
  async put (name: ResultName, value: Buffer): Promise<void> {
    const stored = this.ruleOf(name.kind).validate(value)
    await this.init.index.put(name, stored, await this.init.signer.sign(name, stored))
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

  private async lookup (name: ResultName, signal: AbortSignal, hint: NameHint | undefined): Promise<Buffer | undefined> {
    const rule = this.ruleOf(name.kind)
    const local = await this.init.index.get(name)
    if (local !== undefined) {
      const key = nameId(name)
      if (this.stillComplete(rule, key, local)) return local
      const removals = this.init.blobs.localRemovals
      const problem = await rule.checkComplete(local, this.init.blobs, signal)
      if (problem === undefined) {
        this.rememberComplete(rule, key, local, removals)
        return local
      }
      this.checked.delete(key)
      this.log.info('stored named result is not complete; treating it as a miss', { name: describeName(name), ...problem })
      await this.init.index.delete(name)
    }
    for (const fetcher of this.fetchers) {
      const answer = await fetcher.fetchNamed(name, signal, hint).catch((error) => {
        this.log.warn('named-result lookup in another tier failed', { tier: fetcher.tier, name: describeName(name), error })
        return undefined
      })
      if (answer === undefined) continue
      // Judged once: by the tier that picked it (before it stored anything the answer carried), or here.
      const verdict = isJudged(answer) ? answer.verdict : await this.init.policy.judge(name, answer)
      if (!verdict.accepted) {
        this.log.info('refused a named result from another tier', { tier: fetcher.tier, name: describeName(name), reason: verdict.reason })
        continue
      }
      const canonical = rule.normalize(answer.value)
      if (canonical === undefined) {
        this.log.info('another tier answered with a value that does not decode; skipped', { tier: fetcher.tier, name: describeName(name) })
        continue
      }
      // A signed value is kept byte for byte (its signature covers those bytes); one this node
      // vouches for is kept in canonical form.
      const value = verdict.signature !== undefined ? answer.value : canonical
      const removals = this.init.blobs.localRemovals
      const problem = await rule.checkComplete(value, this.init.blobs, signal)
      if (problem !== undefined) {
        this.log.debug('another tier answered with an incomplete result; skipped', { tier: fetcher.tier, name: describeName(name), ...problem })
        continue
      }
      await this.init.index.put(name, value, verdict.signature ?? await this.init.signer.sign(name, value))
      this.rememberComplete(rule, nameId(name), value, removals)
      return value
    }
    return undefined
  }

  /**
   * True when `rule` lets a check be reused, `value` is what was last found complete under `key`,
   * the check is recent and the local store has removed no blob since it began (any removal, of
   * any blob, voids every check).
   */
  private stillComplete (rule: NamedResultRule, key: string, value: Buffer): boolean {
    if (rule.completenessLastsWhileBlobsStay !== true) return false
    const check = this.checked.get(key)
    return check !== undefined && check.removals === this.init.blobs.localRemovals &&
      Date.now() - check.at < COMPLETENESS_REUSE_MS && check.value.equals(value)
  }

  /** Remembers that `value` was found complete under `key`, if `rule` lets such a check be reused. */
  private rememberComplete (rule: NamedResultRule, key: string, value: Buffer, removals: number): void {
    if (rule.completenessLastsWhileBlobsStay !== true) return
    this.checked.delete(key)
    this.checked.set(key, { value, removals, at: Date.now() })
    if (this.checked.size > COMPLETENESS_MEMO_ENTRIES) this.checked.delete(this.checked.keys().next().value!)
  }

  private ruleOf (kind: NameKind): NamedResultRule {
    const rule = this.rules.get(kind)
    if (rule === undefined) throw new RangeError(`named results of kind ${kind} are not served by this node`)
    return rule
  }
}

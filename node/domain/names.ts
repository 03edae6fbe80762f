import type { Digest } from '../store/digest.js'
import { formatDigest, parseDigestString } from '../store/digest.js'

/**
 * The kinds of named result the node keeps. Each maps a name to value bytes and has its own
 * completeness rule (node/resolve/named-result-rules.ts, asset-rule.ts, ref-rule.ts):
 * - `action-result`: action digest → ActionResult;
 * - `asset`: one URI and its qualifiers (Remote Asset API) → AssetMapping (domain/assets.ts);
 * - `ref`: a BuildStream artifact ref name → RefTarget, the artifact's root Directory.
 */
export const NAME_KINDS = ['action-result', 'asset', 'ref'] as const

/** One kind of named result (see {@link NAME_KINDS}). */
export type NameKind = typeof NAME_KINDS[number]

/**
 * The name of a result: its kind, the instance (namespace) it lives in, and a kind-specific key
 * (for an action result: the action digest as `hash/size`). Results in different instances or
 * of different kinds never see each other.
 */
export interface ResultName {
  readonly kind: NameKind
  readonly instanceName: string
  readonly key: string
}

/** True if `value` names a kind this node knows. */
export function isNameKind (value: string): value is NameKind {
  return (NAME_KINDS as readonly string[]).includes(value)
}

/** The name of the ActionResult of `actionDigest` in `instanceName`. */
export function actionResultName (instanceName: string, actionDigest: Digest): ResultName {
  return { kind: 'action-result', instanceName, key: formatDigest(actionDigest) }
}

/** The action digest an action-result name's key holds (throws InvalidDigestError on a malformed key). */
export function actionDigestOf (name: ResultName): Digest {
  return parseDigestString(name.key)
}

/**
 * The name of a Remote Asset mapping: `key` is `assetKey` (domain/assets.ts) of one URI and its qualifiers
 * (validated by the caller).
 */
export function assetName (instanceName: string, key: string): ResultName {
  return { kind: 'asset', instanceName, key }
}

/** The name of a BuildStream artifact ref (`ref` validated by the caller; see domain/refs.ts). */
export function refName (instanceName: string, ref: string): ResultName {
  return { kind: 'ref', instanceName, key: ref }
}

/** `kind instance key`, for log lines and error messages. */
export function describeName (name: ResultName): string {
  return `${name.kind} ${name.key} in instance ${JSON.stringify(name.instanceName)}`
}

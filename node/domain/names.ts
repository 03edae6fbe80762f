import type { Digest } from '../store/digest.js'
import { formatDigest, parseDigestString } from '../store/digest.js'

/**
 * The kinds of named result the node keeps. Each maps a name to value bytes and has its own
 * completeness rule (node/resolve/named-result-rules.ts). Later kinds (Remote Asset mappings,
 * BuildStream refs) are added here and as a rule; nothing else changes.
 */
export const NAME_KINDS = ['action-result'] as const

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

/** `kind instance key`, for log lines and error messages. */
export function describeName (name: ResultName): string {
  return `${name.kind} ${name.key} in instance ${JSON.stringify(name.instanceName)}`
}

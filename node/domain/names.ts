import type { Digest } from '../store/digest.js'
import { formatDigest, parseDigestString } from '../store/digest.js'
import { InvalidRequestError } from './errors.js'

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
 * The name of a result: its kind, the instance (namespace) it lives in, the build environment it
 * was produced in, and a kind-specific key (for an action result: the action digest as
 * `hash/size`). Results that differ in any part never see each other: the same action digest
 * built in two toolchains never shares a result, the same environment on every teammate's
 * machine does.
 */
export interface ResultName {
  readonly kind: NameKind
  readonly instanceName: string
  /** The build environment's ID ('' = the default environment). See {@link validateEnvironment}. */
  readonly environment: string
  readonly key: string
}

/** Characters an environment ID may use (a digest, a toolchain name, `sdk:1.2+linux_x86-64`…). */
const ENVIRONMENT_PATTERN = /^[A-Za-z0-9._:+=@-]{1,256}$/

/** A build-environment ID that is not `[A-Za-z0-9._:+=@-]{1,256}`. */
export class InvalidEnvironmentError extends InvalidRequestError {
  override name = 'InvalidEnvironmentError'
}

/** Checks an environment ID ('' is the default environment); returns it unchanged. */
export function validateEnvironment (environment: string): string {
  if (environment === '' || ENVIRONMENT_PATTERN.test(environment)) return environment
  throw new InvalidEnvironmentError(`environment ID ${JSON.stringify(environment.slice(0, 300))} is not 1-256 characters of A-Z a-z 0-9 . _ : + = @ -`)
}

/** True if `value` names a kind this node knows. */
export function isNameKind (value: string): value is NameKind {
  return (NAME_KINDS as readonly string[]).includes(value)
}

/** The name of the ActionResult of `actionDigest` in `instanceName` (and build environment). */
export function actionResultName (instanceName: string, actionDigest: Digest, environment = ''): ResultName {
  return { kind: 'action-result', instanceName, environment, key: formatDigest(actionDigest) }
}

/** The action digest an action-result name's key holds (throws InvalidDigestError on a malformed key). */
export function actionDigestOf (name: ResultName): Digest {
  return parseDigestString(name.key)
}

/**
 * The name of a Remote Asset mapping: `key` is `assetKey` (domain/assets.ts) of one URI and its qualifiers
 * (validated by the caller). A URI's content does not depend on the build environment: assets
 * live in the default one.
 */
export function assetName (instanceName: string, key: string): ResultName {
  return { kind: 'asset', instanceName, environment: '', key }
}

/**
 * The name of a BuildStream artifact ref (`ref` validated by the caller; see domain/refs.ts).
 * BuildStream's cache keys already cover the sandbox: refs live in the default environment.
 */
export function refName (instanceName: string, ref: string): ResultName {
  return { kind: 'ref', instanceName, environment: '', key: ref }
}

/**
 * One string per distinct name, for in-memory maps keyed by name (kinds, instance names,
 * environment IDs and keys hold no NUL, so two names never share one).
 */
export function nameId (name: ResultName): string {
  return `${name.kind}\0${name.instanceName}\0${name.environment}\0${name.key}`
}

/** `kind instance key`, for log lines and error messages. */
export function describeName (name: ResultName): string {
  const environment = name.environment === '' ? '' : ` environment ${name.environment}`
  return `${name.kind} ${name.key} in instance ${JSON.stringify(name.instanceName)}${environment}`
}

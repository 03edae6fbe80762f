import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { configSchema, keySchema, type PeercasConfig } from './schema.js'
import { DEFAULT_CONFIG, defaultDataDir } from './defaults.js'

/** A configuration value that failed validation; the message names the key, value and source. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

type Tree = Record<string, unknown>

/** Inputs to {@link loadConfig}, lowest precedence first: defaults < file < env < flags. */
export interface ConfigSources {
  /** Path of a YAML file (from --config or PEERCAS_CONFIG). */
  file?: string
  /** Environment; only `PEERCAS_*` variables are read. @default process.env */
  env?: NodeJS.ProcessEnv
  /** Values from command-line flags, shaped like the config. */
  flags?: Tree
}

/**
 * Builds the node's configuration: embedded defaults, then the YAML file, then `PEERCAS_*`
 * environment variables, then flags. Throws {@link ConfigError} naming the bad key and value.
 */
export function loadConfig (sources: ConfigSources = {}): PeercasConfig {
  const env = sources.env ?? process.env
  let merged: Tree = structuredClone(DEFAULT_CONFIG) as Tree
  const origin = new Map<string, string>()
  let fileTree: Tree | undefined
  const filePath = sources.file ?? (env.PEERCAS_CONFIG !== undefined && env.PEERCAS_CONFIG !== '' ? env.PEERCAS_CONFIG : undefined)
  if (filePath !== undefined) {
    let text: string
    try {
      text = readFileSync(filePath, 'utf8')
    } catch (error) {
      throw new ConfigError(`cannot read config file ${filePath}: ${(error as Error).message}`, { cause: error })
    }
    let parsed: unknown
    try {
      parsed = parseYaml(text) ?? {}
    } catch (error) {
      throw new ConfigError(`config file ${filePath} is not valid YAML: ${(error as Error).message}`, { cause: error })
    }
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${filePath} must be a YAML mapping`)
    fileTree = parsed as Tree
    merged = mergeInto(merged, structuredClone(fileTree), `config file ${filePath}`, origin, [])
  }
  const envTree = fromEnv(env)
  merged = mergeInto(merged, envTree, 'environment', origin, [])
  if (sources.flags !== undefined) merged = mergeInto(merged, sources.flags, 'command line', origin, [])
  fillPaths(merged, env)

  const problems = problemsOf(configSchema, merged, origin)
  // Each layer on its own too: a wrong value in the file must not hide behind a flag that
  // overrides it (the next run without the flag would fail, or worse, mean something else).
  const layers: Array<[string, Tree | undefined]> = [[filePath !== undefined ? `config file ${filePath}` : '', fileTree], ['environment', envTree], ['command line', sources.flags]]
  for (const [source, tree] of layers) {
    if (tree === undefined || source === '') continue
    const layerOrigin = new Map<string, string>()
    const alone = mergeInto(structuredClone(DEFAULT_CONFIG) as Tree, structuredClone(tree), source, layerOrigin, [])
    fillPaths(alone, env)
    for (const problem of problemsOf(keySchema, alone, layerOrigin, true)) {
      if (!problems.includes(problem)) problems.push(problem)
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
  return configSchema.parse(merged)
}

/** Data dir and socket: empty means the default, relative paths are resolved. */
function fillPaths (tree: Tree, env: NodeJS.ProcessEnv): void {
  if (tree.dataDir === '' || tree.dataDir === undefined) tree.dataDir = defaultDataDir(env)
  if (typeof tree.dataDir === 'string') tree.dataDir = resolve(tree.dataDir)
  if ((tree.socket === '' || tree.socket === undefined) && typeof tree.dataDir === 'string') tree.socket = join(tree.dataDir, 'cas.sock')
  if (typeof tree.socket === 'string') tree.socket = resolve(tree.socket)
}

/**
 * The problems of `tree` under `schema`, one sentence each, naming the key, the value and its
 * source. With `onlyFromOrigin`, only keys `origin` knows (a layer checked on its own).
 */
function problemsOf (schema: z.ZodType, tree: Tree, origin: Map<string, string>, onlyFromOrigin = false): string[] {
  const result = schema.safeParse(tree)
  if (result.success) return []
  const problems: string[] = []
  for (const issue of result.error.issues) {
    const key = issue.path.join('.')
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => (key === '' ? k : `${key}.${k}`))
      const from = keys.map((k) => origin.get(k)).find(Boolean)
      problems.push(`unknown key ${keys.join(', ')}${from !== undefined ? ` (from ${from})` : ''}`)
      continue
    }
    const keyOrigin = originOf(origin, issue.path.map(String))
    if (onlyFromOrigin && keyOrigin === undefined) continue
    const value = valueAt(tree, issue.path)
    problems.push(`${key} = ${JSON.stringify(value)} (from ${keyOrigin ?? 'defaults'}): ${messageOf(issue, value)}`)
  }
  return problems
}

/** The source of a key, or of the list it is an element of. */
function originOf (origin: Map<string, string>, path: string[]): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const from = origin.get(path.slice(0, n).join('.'))
    if (from !== undefined) return from
  }
  return undefined
}

/** What is wrong, in words: `expected a boolean (true or false), got a string`. */
function messageOf (issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code === 'invalid_type') {
    return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}, got ${value === null ? 'nothing (null)' : Array.isArray(value) ? 'a list' : `a ${typeof value}`}`
  }
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
  if (issue.code === 'too_small' && issue.origin === 'number') return `must be ${issue.inclusive === true ? 'at least' : 'more than'} ${String(issue.minimum)}`
  if (issue.code === 'too_big' && issue.origin === 'number') return `must be ${issue.inclusive === true ? 'at most' : 'less than'} ${String(issue.maximum)}`
  if (issue.code === 'too_small' && issue.origin === 'string') return 'must not be empty'
  return issue.message
}

const TYPE_WORDS: Record<string, string> = {
  boolean: 'a boolean (true or false)',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  array: 'a list (YAML [a, b] or one "- item" per line)',
  object: 'a mapping of keys'
}

/**
 * Reads `PEERCAS_*` variables: `PEERCAS_MAX_SIZE` → maxSize, `PEERCAS_STORE_HIGH_WATERMARK` →
 * store.highWatermark, `PEERCAS_P2P_PEERS` (comma-separated) → p2p.peers.
 */
export function fromEnv (env: NodeJS.ProcessEnv): Tree {
  const out: Tree = {}
  for (const [path, example] of leafPaths(DEFAULT_CONFIG as Tree, [])) {
    const name = envNameOf(path)
    const raw = env[name]
    if (raw === undefined) continue
    let value: unknown = raw
    if (Array.isArray(example)) value = raw === '' ? [] : raw.split(',').map((s) => s.trim())
    else if (typeof example === 'boolean') value = parseBool(raw, name)
    else if (typeof example === 'number') value = raw.trim() === '' || Number.isNaN(Number(raw)) ? raw : Number(raw)
    setAt(out, path, value)
  }
  return out
}

/** The env variable name for a config key path, e.g. `['store','fsync']` → PEERCAS_STORE_FSYNC. */
export function envNameOf (path: string[]): string {
  return 'PEERCAS_' + path.map(toEnvWord).join('_')
}

function toEnvWord (key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

function parseBool (raw: string, name: string): boolean | string {
  if (/^(1|true|yes|on)$/i.test(raw)) return true
  if (/^(0|false|no|off)$/i.test(raw)) return false
  throw new ConfigError(`${name} = ${JSON.stringify(raw)}: expected true or false`)
}

function * leafPaths (tree: Tree, prefix: string[]): Generator<[string[], unknown]> {
  for (const [key, value] of Object.entries(tree)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) yield * leafPaths(value as Tree, [...prefix, key])
    else yield [[...prefix, key], value]
  }
}

function mergeInto (base: Tree, overlay: Tree, source: string, origin: Map<string, string>, prefix: string[]): Tree {
  for (const [key, value] of Object.entries(overlay)) {
    if (value === undefined) continue
    const path = [...prefix, key]
    const current = base[key]
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && current !== null && typeof current === 'object' && !Array.isArray(current)) {
      base[key] = mergeInto(current as Tree, value as Tree, source, origin, path)
    } else {
      base[key] = value
      origin.set(path.join('.'), source)
    }
  }
  return base
}

function setAt (tree: Tree, path: string[], value: unknown): void {
  let node = tree
  for (const key of path.slice(0, -1)) {
    node[key] ??= {}
    node = node[key] as Tree
  }
  node[path[path.length - 1]!] = value
}

function valueAt (tree: unknown, path: PropertyKey[]): unknown {
  let node = tree
  for (const key of path) node = (node as Record<PropertyKey, unknown> | undefined)?.[key]
  return node
}

import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { configSchema, type PeercasConfig } from './schema.js'
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
    merged = mergeInto(merged, parsed as Tree, `config file ${filePath}`, origin, [])
  }
  merged = mergeInto(merged, fromEnv(env), 'environment', origin, [])
  if (sources.flags !== undefined) merged = mergeInto(merged, sources.flags, 'command line', origin, [])

  if (merged.dataDir === '' || merged.dataDir === undefined) merged.dataDir = defaultDataDir(env)
  merged.dataDir = resolve(String(merged.dataDir))
  if (merged.socket === '' || merged.socket === undefined) merged.socket = join(String(merged.dataDir), 'cas.sock')
  merged.socket = resolve(String(merged.socket))

  const result = configSchema.safeParse(merged)
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.path.join('.')
      const value = valueAt(merged, issue.path)
      const from = origin.get(key) ?? (issue.code === 'unrecognized_keys' ? undefined : 'defaults')
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => (key === '' ? k : `${key}.${k}`))
        return `unknown key ${keys.join(', ')}${keys.map((k) => origin.get(k)).filter(Boolean).length > 0 ? ` (from ${keys.map((k) => origin.get(k)).find(Boolean)})` : ''}`
      }
      return `${key} = ${JSON.stringify(value)}${from !== undefined ? ` (from ${from})` : ''}: ${issue.message}`
    })
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
  }
  return result.data
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

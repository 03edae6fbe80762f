import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DEFAULT_CONFIG } from './defaults.js'
import type { PeercasConfig } from './schema.js'

/**
 * File in the data dir that remembers the p2p TCP port the node listened on. With the default
 * `p2p.listen` (`tcp/0`: any free port) the first start takes a port from the system; later
 * starts ask for the same one, so the multiaddr teammates put in `--peer` keeps working across
 * restarts. An explicit `p2p.listen` is used as given.
 */
export const P2P_PORT_FILE = 'p2p-port'

/** True when `p2p.listen` is the built-in default (nobody chose a port). */
export function usesDefaultP2pListen (config: PeercasConfig): boolean {
  return JSON.stringify(config.p2p.listen) === JSON.stringify(DEFAULT_CONFIG.p2p.listen)
}

/**
 * The listen addresses to try first: the default with the remembered port, or `undefined` when
 * there is nothing remembered or the listen addresses were configured.
 */
export function rememberedP2pListen (config: PeercasConfig): string[] | undefined {
  if (!usesDefaultP2pListen(config)) return undefined
  let port: number
  try {
    port = Number(readFileSync(join(config.dataDir, P2P_PORT_FILE), 'utf8').trim())
  } catch {
    return undefined
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined
  return config.p2p.listen.map((address) => address.replace(/\/tcp\/0$/, `/tcp/${port}`))
}

/** Remembers the TCP port of the first of `addresses` (multiaddrs) for the next start. */
export async function rememberP2pPort (dataDir: string, addresses: readonly string[]): Promise<void> {
  const port = addresses.map((a) => /\/tcp\/(\d+)/.exec(a)?.[1]).find((p) => p !== undefined && p !== '0')
  if (port !== undefined) await writeFile(join(dataDir, P2P_PORT_FILE), port + '\n', { mode: 0o600 })
}

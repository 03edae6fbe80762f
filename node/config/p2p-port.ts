import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PeercasConfig } from './schema.js'

/**
 * File in the data dir that remembers the p2p TCP port the node listened on. With a listen
 * address on port 0 (the default `/ip4/0.0.0.0/tcp/0`: any free port) the first start takes a
 * port from the system; later starts ask for the same one, so the multiaddr teammates put in
 * `--peer` keeps working across restarts. Addresses with a port of their own are used as given.
 */
export const P2P_PORT_FILE = 'p2p-port'

/** True when some `p2p.listen` address leaves the TCP port to the system (`…/tcp/0`). */
export function usesAutomaticP2pPort (config: PeercasConfig): boolean {
  return config.p2p.listen.some((address) => AUTO_PORT.test(address))
}

const AUTO_PORT = /\/tcp\/0$/

/**
 * The listen addresses to try first: those on port 0 moved to the remembered port, or
 * `undefined` when nothing is remembered or no address is on port 0.
 */
export function rememberedP2pListen (config: PeercasConfig): string[] | undefined {
  if (!usesAutomaticP2pPort(config)) return undefined
  let port: number
  try {
    port = Number(readFileSync(join(config.dataDir, P2P_PORT_FILE), 'utf8').trim())
  } catch {
    return undefined
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined
  return config.p2p.listen.map((address) => address.replace(AUTO_PORT, `/tcp/${port}`))
}

/** Remembers the TCP port of the first of `addresses` (multiaddrs) for the next start. */
export async function rememberP2pPort (dataDir: string, addresses: readonly string[]): Promise<void> {
  const port = addresses.map((a) => /\/tcp\/(\d+)/.exec(a)?.[1]).find((p) => p !== undefined && p !== '0')
  if (port !== undefined) await writeFile(join(dataDir, P2P_PORT_FILE), port + '\n', { mode: 0o600 })
}

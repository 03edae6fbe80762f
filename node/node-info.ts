import { readFileSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

// Kept apart from node.ts so client commands (status, put, get…) can find a node without loading
// the whole node (libp2p, the gRPC server, the store).

/** What `serve` writes to `<dataDir>/node.json` once ready, for `status` and scripts. */
export interface NodeInfo {
  pid: number
  version: string
  dataDir: string
  socket: string
  tcp: string[]
  startedAt: string
  /** libp2p peer ID, when p2p is on. */
  peerId?: string
  /** libp2p listen multiaddrs, when p2p is on. */
  p2p?: string[]
}

/** Reads `<dataDir>/node.json` of a running node, or `undefined` if there is none. */
export function readNodeInfo (dataDir: string): NodeInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'node.json'), 'utf8')) as NodeInfo
  } catch {
    return undefined
  }
}

/** Writes `<dataDir>/node.json` atomically (owner-only). */
export async function writeNodeInfo (dataDir: string, info: NodeInfo): Promise<void> {
  const path = join(dataDir, 'node.json')
  await writeFile(`${path}.tmp`, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 })
  await rename(`${path}.tmp`, path)
}

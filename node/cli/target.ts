import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { defaultDataDir } from '../config/defaults.js'
import { readNodeInfo } from '../node-info.js'
import { createClients, type ReapiClients } from '../reapi/clients.js'

/** No node answers at the address a client command tried. */
export class NodeNotRunningError extends Error {
  override name = 'NodeNotRunningError'
}

/** How client commands (status, put, get, gc) find a running node. */
/** The options every client command takes to find its node. */
export const TARGET_OPTIONS = { socket: { type: 'string' }, 'data-dir': { type: 'string' } } as const

export interface TargetFlags {
  socket?: string
  'data-dir'?: string
}

/**
 * The gRPC target of the node to talk to: `--socket`, else the socket in node.json of
 * `--data-dir` (or `PEERCAS_DATA_DIR`, or the default data dir), else `<dataDir>/cas.sock`.
 */
export function resolveTarget (flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): string {
  if (flags.socket !== undefined) return `unix:${resolve(flags.socket)}`
  const dataDir = resolve(flags['data-dir'] ?? env.PEERCAS_DATA_DIR ?? defaultDataDir(env))
  const info = readNodeInfo(dataDir)
  return `unix:${info?.socket ?? join(dataDir, 'cas.sock')}`
}

/** Connects to the node at `target`, failing fast with a clear message if none answers. */
export async function connectToNode (target: string): Promise<ReapiClients> {
  if (target.startsWith('unix:') && !existsSync(target.slice(5))) {
    throw new NodeNotRunningError(`no peercas node is running at ${target.slice(5)}: start one with \`npx peercas serve\`, or pass --socket / --data-dir`)
  }
  const clients = createClients(target)
  try {
    await new Promise<void>((resolvePromise, reject) => {
      clients.cas.waitForReady(Date.now() + 3000, (error) => { if (error != null) reject(error); else resolvePromise() })
    })
  } catch (error) {
    clients.close()
    throw new NodeNotRunningError(`no peercas node answers at ${target}: ${(error as Error).message}`, { cause: error })
  }
  return clients
}


import { createServer } from 'node:net'
import { access, constants, mkdir, appendFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { PeercasConfig } from '../config/schema.js'
import { prepareSocketPath } from '../reapi/socket-path.js'
import { readNodeInfo } from '../node-info.js'
import { p2pModeOf } from '../p2p/index.js'
import { readTeamKey } from '../p2p/team-key.js'

/** `serve` cannot start; the message is one line that says why and what to do. */
export class StartupError extends Error {
  override name = 'StartupError'
}

/**
 * Checks everything `serve` will need before anything starts (no store opened, no peer dialled,
 * no log line written): every TCP port is free, the socket and log file can be created, and no
 * other node is running on this data dir. Throws {@link StartupError}.
 */
export async function preflight (config: PeercasConfig): Promise<void> {
  // The team key first: a bad key file must stop the node before it creates anything.
  if (p2pModeOf(config) === 'team') await readTeamKey(config.p2p.psk)
  const other = readNodeInfo(config.dataDir)
  if (other !== undefined && isRunning(other.pid) && other.pid !== process.pid) {
    throw new StartupError(`data dir ${config.dataDir} is in use by another peercas (pid ${other.pid}, socket ${other.socket}); stop it or pass another --data-dir`)
  }
  await writableDir(config.dataDir, 'data dir', '--data-dir')
  await writableDir(dirname(config.socket), 'socket directory', '--socket')
  try {
    await prepareSocketPath(config.socket)
  } catch (error) {
    throw new StartupError(`cannot serve on the socket ${config.socket}: ${(error as Error).message}`, { cause: error })
  }
  if (config.log.file !== '') {
    try {
      await mkdir(dirname(config.log.file), { recursive: true })
      await appendFile(config.log.file, '')
    } catch (error) {
      throw new StartupError(`cannot write the log file ${config.log.file}: ${reason(error)}; fix its permissions or choose another --log-file`, { cause: error })
    }
  }
  for (const entry of config.listen) await portFree(typeof entry === 'string' ? entry : entry.address, '--listen')
  for (const endpoint of config.endpoints) if (endpoint.listen !== undefined) await portFree(endpoint.listen, 'endpoints')
  if (config.metrics.listen !== '') await portFree(config.metrics.listen, '--metrics')
  if (config.p2p.enabled && (config.p2p.psk !== '' || config.p2p.open)) {
    for (const address of config.p2p.listen) {
      const match = /^\/(ip4|ip6)\/([^/]+)\/tcp\/(\d+)$/.exec(address)
      if (match !== null && match[3] !== '0') await portFree(`${match[1] === 'ip6' ? `[${match[2]}]` : match[2]}:${match[3]}`, '--p2p-listen', address)
    }
  }
}

async function writableDir (dir: string, what: string, flag: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await access(dir, constants.W_OK | constants.X_OK)
  } catch (error) {
    throw new StartupError(`cannot use ${dir} as the ${what}: ${reason(error)}; fix its permissions or pass another ${flag}`, { cause: error })
  }
}

async function portFree (address: string, flag: string, shown = address): Promise<void> {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address)
  if (match === null) throw new StartupError(`${flag} ${shown} is not HOST:PORT (e.g. 127.0.0.1:8980)`)
  const port = Number(match[3])
  if (port === 0) return
  const host = match[1] ?? match[2]!
  await new Promise<void>((resolve, reject) => {
    const server = createServer()
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE'
        ? 'the port is in use (another peercas or another program); stop it or pick another port'
        : error.code === 'EADDRNOTAVAIL' ? 'that address is not on this machine' : error.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : error.message
      reject(new StartupError(`cannot listen on ${shown} (${flag}): ${why}`, { cause: error }))
    })
    server.listen({ port, host, exclusive: true }, () => { server.close(() => { resolve() }) })
  })
}

function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function reason (error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : code === 'ENOTDIR' || code === 'EEXIST' ? 'it or a parent is not a directory' : (error as Error).message
}

import { connect } from 'node:net'
import { lstat, mkdir, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

/** The unix socket path is served by another live process. */
export class SocketInUseError extends Error {
  override name = 'SocketInUseError'
}

/** Something that is not a socket sits at the socket path. */
export class SocketPathOccupiedError extends Error {
  override name = 'SocketPathOccupiedError'
}

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with the terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = 107

/**
 * Makes `path` ready to bind: creates its directory; removes a stale socket left by a dead
 * process; refuses if a live process answers on it, or if a non-socket file is there.
 */
export async function prepareSocketPath (path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new RangeError(`socket path ${path} is ${Buffer.byteLength(path)} bytes; unix sockets allow at most ${MAX_SOCKET_PATH_BYTES}: choose a shorter --socket`)
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const info = await lstat(path).catch(() => undefined)
  if (info === undefined) return
  if (!info.isSocket()) throw new SocketPathOccupiedError(`${path} exists and is not a socket; refusing to replace it`)
  if (await isAlive(path)) throw new SocketInUseError(`another process is serving on ${path}; stop it or choose another --socket`)
  await rm(path, { force: true })
}

async function isAlive (path: string): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = connect(path)
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { resolve(false) })
  })
}

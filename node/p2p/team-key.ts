import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises'
import { dirname } from 'node:path'

/** First line of a libp2p private-network key file (the format `@libp2p/pnet` and IPFS read). */
const PSK_HEADER = '/key/swarm/psk/1.0.0/'
/** Second line: the key is written as hex. */
const PSK_ENCODING = '/base16/'
/** Key length in bytes (XSalsa20). */
export const TEAM_KEY_BYTES = 32

/** What the node says when p2p is off for want of a team key. */
export const NO_TEAM_KEY_HINT = 'p2p is off: no team key; run `npx peercas gen-psk ~/.config/peercas/team.psk`, share it with your team, and start with --psk ~/.config/peercas/team.psk; or set p2p.open: true on a network you trust'

/** What the node says when it runs an open network. */
export const OPEN_NETWORK_WARNING = 'p2p is open (p2p.open: true, no team key): any host that reaches the p2p port can read this cache and list what it holds; use a team key (peercas gen-psk, --psk) unless you trust every host on this network'

/** A team key file that cannot be used: missing, unreadable, malformed or of the wrong length. */
export class TeamKeyError extends Error {
  override name = 'TeamKeyError'
}

/** A team key file that already exists and was not to be overwritten. */
export class TeamKeyExistsError extends Error {
  override name = 'TeamKeyExistsError'
}

/** A team key read from its file. */
export interface TeamKey {
  /** The file, normalised to the v1 format `@libp2p/pnet` takes. */
  readonly psk: Uint8Array
  /** The file it came from. */
  readonly path: string
  /** Group or other users may read the file (it should be 0600). */
  readonly readableByOthers: boolean
}

/** The text of a new team key file: the v1 format, 32 random bytes in hex. */
export function newTeamKeyText (): string {
  return `${PSK_HEADER}\n${PSK_ENCODING}\n${randomBytes(TEAM_KEY_BYTES).toString('hex')}\n`
}

/**
 * Writes a new team key to `path` with mode 0600 (its directory is created 0700 if missing).
 * Refuses an existing file with {@link TeamKeyExistsError} unless `force`.
 */
export async function writeTeamKeyFile (path: string, options: { force?: boolean } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  let file
  try {
    file = await open(path, options.force === true ? 'w' : 'wx', 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new TeamKeyExistsError(`${path} already exists; pass --force to replace it (every teammate then needs the new key)`, { cause: error })
    throw error
  }
  try {
    // An overwritten file keeps its old mode: make it private before the key goes in.
    await file.chmod(0o600)
    await file.writeFile(newTeamKeyText())
  } finally {
    await file.close()
  }
  await chmod(path, 0o600)
}

/**
 * Reads and checks a team key file: three lines, `/key/swarm/psk/1.0.0/`, `/base16/` and 64
 * hex digits. Throws {@link TeamKeyError} naming the file and what is wrong.
 */
export async function readTeamKey (path: string): Promise<TeamKey> {
  let text: string
  let mode: number
  try {
    text = await readFile(path, 'utf8')
    mode = (await stat(path)).mode
  } catch (error) {
    throw new TeamKeyError(`cannot read the team key file ${path}: ${(error as Error).message}`, { cause: error })
  }
  const lines = text.split(/\r?\n/)
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop()
  const bad = (why: string): TeamKeyError => new TeamKeyError(`the team key file ${path} ${why}; make one with \`npx peercas gen-psk FILE\``)
  if (lines.length !== 3) throw bad(`has ${lines.length} lines, not 3 (${PSK_HEADER}, ${PSK_ENCODING}, then the key in hex)`)
  if (lines[0]!.trim() !== PSK_HEADER) throw bad(`does not start with ${PSK_HEADER}`)
  if (lines[1]!.trim() !== PSK_ENCODING) throw bad(`has ${JSON.stringify(lines[1])} as its second line, not ${PSK_ENCODING}`)
  const hex = lines[2]!.trim()
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) throw bad('has a key that is not hex')
  if (hex.length !== TEAM_KEY_BYTES * 2) throw bad(`has a key of ${hex.length / 2} bytes, not ${TEAM_KEY_BYTES}`)
  return {
    psk: new TextEncoder().encode(`${PSK_HEADER}\n${PSK_ENCODING}\n${hex.toLowerCase()}`),
    path,
    readableByOthers: (mode & 0o077) !== 0
  }
}

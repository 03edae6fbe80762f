import { join } from 'node:path'
import { readTeamKey, writeTeamKeyFile } from '../../node/p2p/team-key.js'

/**
 * A team key for the bench's p2p nodes, written to `dir`: peers run behind it as users do (p2p
 * is off without one). `file` is for `--psk` / `p2p.psk`, `psk` for raw libp2p hosts.
 */
export async function benchTeamKey (dir: string): Promise<{ file: string, psk: Uint8Array }> {
  const file = join(dir, 'team.psk')
  await writeTeamKeyFile(file, { force: true })
  return { file, psk: (await readTeamKey(file)).psk }
}

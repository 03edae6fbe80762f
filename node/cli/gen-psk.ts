import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { UsageError } from './client-commands.js'
import { writeTeamKeyFile } from '../p2p/team-key.js'

/** `peercas gen-psk FILE [--force]`: writes a new team key (mode 0600); refuses to overwrite one. */
export async function genPsk (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { force: { type: 'boolean' } } })
  if (positionals.length !== 1) throw new UsageError('usage: peercas gen-psk FILE [--force]')
  const file = resolve(positionals[0]!)
  await writeTeamKeyFile(file, { force: values.force })
  process.stdout.write(`wrote a team key to ${file} (mode 0600)\nshare it with your team over a private channel, then start each node with: npx peercas serve --psk ${file}\n`)
  return 0
}

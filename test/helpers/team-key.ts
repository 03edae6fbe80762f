import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { newTeamKeyText } from '../../node/p2p/team-key.js'

// Inside the run's temp dir when there is one (test/global-setup.ts removes it at the end of the
// run; a worker stopped by vitest gets no 'exit' event), else in the OS temp dir.
const dir = mkdtempSync(join(process.env.PEERCAS_TEST_RUN_DIR ?? tmpdir(), 'peercas-psk-'))
process.on('exit', () => { rmSync(dir, { recursive: true, force: true }) })

let written = 0
/** Writes a new team key file (mode 0600) in this process's temp dir; returns its path. */
export function writeTestTeamKey (text = newTeamKeyText()): string {
  const file = join(dir, `team-${written++}.psk`)
  writeFileSync(file, text, { mode: 0o600 })
  return file
}

const text = newTeamKeyText()
/** The team key file every test node shares by default (so every p2p test runs behind pnet). */
export const TEST_PSK_FILE = writeTestTeamKey(text)
/** The same key as bytes, for raw libp2p hosts (`createHost({ teamKey })`). */
export const TEST_TEAM_KEY: Uint8Array = new TextEncoder().encode(text.trimEnd())

// Links bin/peercas.js into node_modules/.bin so that `npx peercas` works inside this checkout
// (npm links the bins of dependencies there, but not the project's own).
import { mkdirSync, rmSync, symlinkSync, chmodSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const binDir = join(root, 'node_modules', '.bin')
mkdirSync(binDir, { recursive: true })
const link = join(binDir, 'peercas')
rmSync(link, { force: true })
symlinkSync('../../bin/peercas.js', link)
chmodSync(join(root, 'bin', 'peercas.js'), 0o755)

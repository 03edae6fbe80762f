// Measures how long the local store takes to open after a clean stop and after kill -9, with
// N small (inline) blobs and a few file blobs. The child process fills the store and is killed
// with SIGKILL; the parent then times LocalStore.open (which reconciles after an unclean stop).
// Run: npm run build && node_modules/.bin/node scripts/crash-restart.mjs [inlineBlobs=300000] [fileBlobs=200]
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LocalStore } from '../dist/node/store/local-store.js'

const digestOf = (data) => ({ hash: createHash('sha256').update(data).digest('hex'), sizeBytes: data.byteLength })

if (process.argv[2] === '--child') {
  const [dir, inlineCount, fileCount] = [process.argv[3], Number(process.argv[4]), Number(process.argv[5])]
  const store = await LocalStore.open({ dataDir: dir, maxSizeBytes: 2 ** 40 })
  for (let i = 0; i < inlineCount; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, inlineCount - i) }, () => { const data = randomBytes(200); return { digest: digestOf(data), data } })
    await store.putMany(batch)
  }
  for (let i = 0; i < fileCount; i++) { const data = randomBytes(64 * 1024); await store.put(digestOf(data), data) }
  if (process.argv[6] === 'clean') await store.close()
  process.stdout.write('ready\n')
  setInterval(() => {}, 1000)
} else {
  const inlineCount = Number(process.argv[2] ?? 300_000)
  const fileCount = Number(process.argv[3] ?? 200)
  for (const mode of ['clean', 'kill']) {
    const dir = await mkdtemp(join(tmpdir(), 'peercas-restart-'))
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', dir, String(inlineCount), String(fileCount), mode], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise((resolve, reject) => { child.stdout.on('data', (d) => { if (String(d).includes('ready')) resolve() }); child.once('exit', reject) })
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    const started = performance.now()
    const store = await LocalStore.open({ dataDir: dir, maxSizeBytes: 2 ** 40 })
    const ms = performance.now() - started
    const stats = store.stats()
    await store.close()
    console.log(`${mode === 'clean' ? 'after a clean stop' : 'after kill -9   '}: open ${ms.toFixed(0)} ms (${stats.inlineBlobCount} inline, ${stats.fileBlobCount} file blobs)`)
    await rm(dir, { recursive: true, force: true })
  }
}

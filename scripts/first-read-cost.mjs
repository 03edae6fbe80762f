// Measures what the first-read check of blob files costs: reads of file blobs right after a
// restart (hashed before serving) versus the same reads again (already verified, no hashing).
// Run: npm run build && node_modules/.bin/node scripts/first-read-cost.mjs
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalStore } from '../dist/node/store/local-store.js'

const digestOf = (data) => ({ hash: createHash('sha256').update(data).digest('hex'), sizeBytes: data.byteLength })

async function drain (store, digest) {
  const stream = await store.openReadStream(digest)
  for await (const _ of stream) { /* discard */ }
}

const cases = [
  { size: 64 * 1024, count: 2000 },
  { size: 1024 * 1024, count: 300 },
  { size: 64 * 1024 * 1024, count: 6 }
]
for (const { size, count } of cases) {
  const dir = await mkdtemp(join(tmpdir(), 'peercas-firstread-'))
  let store = await LocalStore.open({ dataDir: dir, maxSizeBytes: 2 ** 40 })
  const digests = []
  for (let i = 0; i < count; i++) { const data = randomBytes(size); const d = digestOf(data); await store.put(d, data); digests.push(d) }
  await store.close()
  store = await LocalStore.open({ dataDir: dir, maxSizeBytes: 2 ** 40 })
  for (const [method, read] of [['read', (d) => store.read(d)], ['openReadStream', (d) => drain(store, d)]]) {
    const times = []
    for (let pass = 0; pass < 2; pass++) {
      const t = performance.now()
      for (const d of digests) await read(d)
      times.push(performance.now() - t)
    }
    const mb = size * count / 1e6
    console.log(`${String(size / 1024).padStart(6)} KiB × ${count} ${method.padEnd(14)}: first read ${(times[0] / count).toFixed(2)} ms/blob (${(mb / times[0] * 1000).toFixed(0)} MB/s), again ${(times[1] / count).toFixed(2)} ms/blob (${(mb / times[1] * 1000).toFixed(0)} MB/s)`)
    if (method === 'read') { await store.close(); store = await LocalStore.open({ dataDir: dir, maxSizeBytes: 2 ** 40 }) }
  }
  await store.close()
  await rm(dir, { recursive: true, force: true })
}

// Measures how fast the local store writes and reads blobs of a given size when they live
// inline in LevelDB versus one file each, to choose store.inlineThreshold.
// Run: npm run build && node_modules/.bin/node scripts/inline-threshold.mjs
import { randomBytes, createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalStore } from '../dist/node/store/local-store.js'

const sizes = [1024, 4096, 16384, 65536, 262144]

async function run (size, inline) {
  const count = Math.min(4000, Math.floor(128 * 1024 * 1024 / size))
  const dir = await mkdtemp(join(tmpdir(), 'peercas-inline-'))
  const store = await LocalStore.open({ dataDir: dir, maxSizeBytes: 2 ** 40, inlineThresholdBytes: inline ? 4 * 1024 * 1024 : 0 })
  const blobs = Array.from({ length: count }, () => {
    const data = randomBytes(size)
    return { data, digest: { hash: createHash('sha256').update(data).digest('hex'), sizeBytes: size } }
  })
  let t = performance.now()
  // 16 concurrent writers, like a build uploading outputs.
  for (let i = 0; i < blobs.length; i += 16) await Promise.all(blobs.slice(i, i + 16).map((b) => store.put(b.digest, b.data)))
  const writeS = (performance.now() - t) / 1000
  t = performance.now()
  for (let i = 0; i < blobs.length; i += 16) await Promise.all(blobs.slice(i, i + 16).map((b) => store.read(b.digest)))
  const readS = (performance.now() - t) / 1000
  await store.close()
  await rm(dir, { recursive: true, force: true })
  return { writePerS: count / writeS, readPerS: count / readS }
}

console.log('size\tinline write/s\tfile write/s\tinline read/s\tfile read/s')
for (const size of sizes) {
  const a = await run(size, true)
  const b = await run(size, false)
  console.log(`${size}\t${a.writePerS.toFixed(0)}\t${b.writePerS.toFixed(0)}\t${a.readPerS.toFixed(0)}\t${b.readPerS.toFixed(0)}`)
}

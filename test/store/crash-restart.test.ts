import { describe, it, expect, afterEach } from 'vitest'
import { createHash, randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { LocalStore } from '../../node/store/local-store.js'
import type { Digest } from '../../node/store/digest.js'
import { makeTempDir } from '../helpers/node.js'

const dirs: string[] = []
afterEach(async () => { for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true }) })

function blob (size: number): { digest: Digest, data: Buffer } {
  const data = randomBytes(size)
  return { digest: { hash: createHash('sha256').update(data).digest('hex'), sizeBytes: size }, data }
}

/** Stops a store as kill -9 would leave it: the index closed without the clean-stop record. */
async function crash (store: LocalStore): Promise<void> {
  await store.flushAccessTimes()
  const internal = store as unknown as { index: { db: { close(): Promise<void> } }, closed: boolean, flushTimer: NodeJS.Timeout }
  clearInterval(internal.flushTimer)
  internal.closed = true
  await internal.index.db.close()
}

async function timedOpen (dataDir: string): Promise<{ store: LocalStore, ms: number }> {
  const started = performance.now()
  const store = await LocalStore.open({ dataDir, maxSizeBytes: 1 << 30 })
  return { store, ms: performance.now() - started }
}

describe('restart after a crash', () => {
  it('takes time in proportion to the file blobs, not to every inline blob', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const store = await LocalStore.open({ dataDir: dir, maxSizeBytes: 1 << 30 })
    const inline: Digest[] = []
    for (let i = 0; i < 50_000; i += 1000) {
      const batch = Array.from({ length: 1000 }, () => blob(100))
      await store.putMany(batch)
      inline.push(...batch.map((b) => b.digest))
    }
    const file = blob(40_000)
    await store.put(file.digest, file.data)
    await store.close()

    // A clean restart of the same store is the yardstick (same disk, same load on the machine).
    const clean = await timedOpen(dir)
    await crash(clean.store)
    const afterCrash = await timedOpen(dir)
    try {
      expect(afterCrash.store.stats()).toMatchObject({ blobCount: 50_001, inlineBlobCount: 50_000, fileBlobCount: 1 })
      expect(await afterCrash.store.findMissing([...inline.slice(0, 100), file.digest])).toEqual([])
      // One sequential index scan (≈ 5 µs per entry) and a stat per file blob; before, a random
      // read per inline blob and a rewrite of the whole LRU order made this ≈ 15× a clean start.
      expect(afterCrash.ms).toBeLessThan(5 * clean.ms + 400)
    } finally {
      await afterCrash.store.close()
    }
  }, 60_000)

  it('still drops the entry of a file blob whose file is gone', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const store = await LocalStore.open({ dataDir: dir, maxSizeBytes: 1 << 30, inlineThresholdBytes: 1024 })
    const lost = blob(100_000)
    await store.put(lost.digest, lost.data)
    await crash(store)
    await rm(`${dir}/cas/${lost.digest.hash.slice(0, 2)}/${lost.digest.hash}`)
    const reopened = await LocalStore.open({ dataDir: dir, maxSizeBytes: 1 << 30, inlineThresholdBytes: 1024 })
    try {
      expect(await reopened.has(lost.digest)).toBe(false)
      expect(reopened.stats()).toMatchObject({ blobCount: 0, totalBytes: 0 })
      await reopened.put(lost.digest, lost.data)
      expect(await reopened.read(lost.digest)).toEqual(lost.data)
    } finally {
      await reopened.close()
    }
  })
})

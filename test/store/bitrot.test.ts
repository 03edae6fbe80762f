import { describe, it, expect, afterEach } from 'vitest'
import { randomBytes } from 'node:crypto'
import { open, readdir, rm, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { LocalStore, type LocalStoreInit } from '../../node/store/local-store.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { makeTempDir } from '../helpers/node.js'
import { waitFor } from '../helpers/wait.js'

const dirs: string[] = []
const stores: LocalStore[] = []
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {})
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function openStore (dataDir: string, overrides: Partial<LocalStoreInit> = {}): Promise<LocalStore> {
  const store = await LocalStore.open({ dataDir, maxSizeBytes: 1 << 30, inlineThresholdBytes: 1024, ...overrides })
  stores.push(store)
  return store
}

async function closeStore (store: LocalStore): Promise<void> {
  stores.splice(stores.indexOf(store), 1)
  await store.close()
}

function blobPath (dir: string, digest: Digest): string {
  return join(dir, 'cas', digest.hash.slice(0, 2), digest.hash)
}

/** Overwrites 64 bytes in the middle of a blob file, as a failing disk might. */
async function rot (dir: string, digest: Digest): Promise<void> {
  const file = await open(blobPath(dir, digest), 'r+')
  try { await file.write(randomBytes(64), 0, 64, Math.floor(digest.sizeBytes / 2)) } finally { await file.close() }
}

async function streamAll (store: LocalStore, digest: Digest): Promise<Buffer | undefined> {
  const stream = await store.openReadStream(digest)
  if (stream === undefined) return undefined
  const parts: Buffer[] = []
  for await (const chunk of stream) parts.push(chunk as Buffer)
  return Buffer.concat(parts)
}

/** A store with one file blob written, then stopped cleanly; returns its dir and blob. */
async function storedBlob (size = 300_000): Promise<{ dir: string, data: Buffer, digest: Digest }> {
  const dir = await makeTempDir(); dirs.push(dir)
  const store = await openStore(dir)
  const data = randomBytes(size); const digest = digestOf(data)
  await store.put(digest, data)
  await closeStore(store)
  return { dir, data, digest }
}

describe('bit rot in blob files', () => {
  for (const reader of ['read', 'openBlob', 'openReadStream'] as const) {
    it(`never returns bytes that do not match the digest (${reader}) and quarantines the file`, async () => {
      const { dir, data, digest } = await storedBlob()
      await rot(dir, digest)
      const store = await openStore(dir)
      const got = reader === 'read'
        ? await store.read(digest)
        : reader === 'openReadStream' ? await streamAll(store, digest) : await store.openBlob(digest)
      expect(got).toBeUndefined()
      expect(await store.has(digest)).toBe(false)
      expect(store.stats()).toMatchObject({ blobCount: 0, totalBytes: 0 })
      const quarantined = await readdir(join(dir, 'quarantine'))
      expect(quarantined).toHaveLength(1)
      expect(quarantined[0]).toContain(digest.hash)
      // The blob is simply missing now: storing the good bytes again works.
      await store.put(digest, data)
      expect((await store.read(digest))?.equals(data)).toBe(true)
    })
  }

  it('detects rot after a kill -9 restart too (reconcile checks sizes only)', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const store = await openStore(dir)
    const data = randomBytes(200_000); const digest = digestOf(data)
    await store.put(digest, data)
    const internal = store as unknown as { index: { db: { close(): Promise<void> } }, closed: boolean, flushTimer: NodeJS.Timeout }
    clearInterval(internal.flushTimer)
    internal.closed = true
    await internal.index.db.close()
    stores.splice(stores.indexOf(store), 1)
    await rot(dir, digest)
    const reopened = await openStore(dir)
    expect(await streamAll(reopened, digest)).toBeUndefined()
    expect(await reopened.has(digest)).toBe(false)
  })

  it('treats a truncated file as missing: nothing served, FindMissing reports it after detection', async () => {
    const { dir, digest } = await storedBlob()
    await truncate(blobPath(dir, digest), 1000)
    const store = await openStore(dir)
    expect(await store.read(digest)).toBeUndefined()
    expect(await store.findMissing([digest])).toEqual([digest])
    expect(await store.openBlob(digest)).toBeUndefined()
  })

  it('serves a sound file as before, once hashed on its first read', async () => {
    const { dir, data, digest } = await storedBlob(3_000_000)
    const store = await openStore(dir)
    expect((await streamAll(store, digest))?.equals(data)).toBe(true)
    const file = await store.openBlob(digest)
    expect(file?.kind).toBe('file')
    await (file as { close(): Promise<void> }).close()
    expect((await store.read(digest))?.equals(data)).toBe(true)
    expect(await readdir(dir)).not.toContain('quarantine')
  })

  it('finds a rotten file in the background without any read', async () => {
    const { dir, data, digest } = await storedBlob()
    const sound = randomBytes(100_000); const soundDigest = digestOf(sound)
    const before = await openStore(dir)
    await before.put(soundDigest, sound)
    await closeStore(before)
    await rot(dir, digest)
    const store = await openStore(dir, { scrubRateBytesPerSec: 50e6, scrubStartDelayMs: 0 })
    await waitFor(() => store.scrubStats().passes >= 1, 'a scrub pass')
    expect(store.scrubStats()).toMatchObject({ checkedBlobs: 2, checkedBytes: data.byteLength + sound.byteLength, badBlobs: 1 })
    expect(await store.findMissing([digest, soundDigest])).toEqual([digest])
    expect(await readdir(join(dir, 'quarantine'))).toHaveLength(1)
  })

  it('scrubs at the configured rate', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const first = await openStore(dir)
    for (let i = 0; i < 4; i++) { const data = randomBytes(500_000); await first.put(digestOf(data), data) }
    await closeStore(first)
    const started = performance.now()
    const store = await openStore(dir, { scrubRateBytesPerSec: 1_000_000, scrubStartDelayMs: 0 })
    await waitFor(() => store.scrubStats().passes >= 1, 'a scrub pass', 10_000)
    // 2 MB at 1 MB/s: the last chunk is read once 1.5 MB have gone by.
    expect(performance.now() - started).toBeGreaterThan(1400)
    expect(store.scrubStats()).toMatchObject({ checkedBlobs: 4, badBlobs: 0 })
  })
})

import { describe, it, expect, afterEach } from 'vitest'
import { randomBytes } from 'node:crypto'
import { readdir, rm, writeFile, mkdir, stat, readFile, open } from 'node:fs/promises'
import { join } from 'node:path'
import { LocalStore, type LocalStoreInit } from '../../node/store/local-store.js'
import { EMPTY_DIGEST, digestOf, type Digest } from '../../node/store/digest.js'
import { DataDirLockedError, DigestMismatchError, BlobTooLongError, BlobTooLargeError, WriteAbortedError } from '../../node/store/errors.js'
import { makeTempDir } from '../helpers/node.js'
import { waitFor } from '../helpers/wait.js'
import { actionResultName } from '../../node/domain/names.js'

const dirs: string[] = []
const stores: LocalStore[] = []

async function openStore (overrides: Partial<LocalStoreInit> = {}, dataDir?: string): Promise<LocalStore> {
  const dir = dataDir ?? await makeTempDir()
  if (dataDir === undefined) dirs.push(dir)
  const store = await LocalStore.open({ dataDir: dir, maxSizeBytes: 1 << 30, inlineThresholdBytes: 1024, ...overrides })
  stores.push(store)
  return store
}

async function streamAll (store: LocalStore, d: Digest, range = {}): Promise<Buffer | undefined> {
  const s = await store.openReadStream(d, range)
  if (s === undefined) return undefined
  const parts: Buffer[] = []
  for await (const c of s) parts.push(c as Buffer)
  return Buffer.concat(parts)
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {})
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

describe('LocalStore', () => {
  it('stores small blobs inline and large blobs as files, and reads both back', async () => {
    const store = await openStore()
    const small = randomBytes(100)
    const large = randomBytes(200_000)
    await store.put(digestOf(small), small)
    await store.put(digestOf(large), large)
    expect(sameBytes(await store.read(digestOf(small)), small)).toBe(true)
    expect(sameBytes(await streamAll(store, digestOf(large)), large)).toBe(true)
    expect(store.stats()).toMatchObject({ blobCount: 2, inlineBlobCount: 1, fileBlobCount: 1, totalBytes: 200_100 })
  })

  it('always holds the empty blob', async () => {
    const store = await openStore()
    expect(await store.has(EMPTY_DIGEST)).toBe(true)
    expect(await store.read(EMPTY_DIGEST)).toEqual(Buffer.alloc(0))
    expect(await store.findMissing([EMPTY_DIGEST])).toEqual([])
  })

  it('finds the missing of thousands of digests (a read split over the thread pool) in request order, repeats included', async () => {
    const dir = await makeTempDir()
    dirs.push(dir)
    const store = await openStore({}, dir)
    const blobs = Array.from({ length: 3000 }, () => { const data = randomBytes(40); return { digest: digestOf(data), data } })
    expect((await store.putMany(blobs)).every((e) => e === undefined)).toBe(true)
    // Reopened: nothing remembered, every lookup reads the index.
    await store.close()
    const reopened = await openStore({}, dir)
    const absent = Array.from({ length: 2000 }, () => digestOf(randomBytes(41)))
    const asked: Digest[] = []
    for (let i = 0; i < 3000; i++) asked.push(blobs[i]!.digest, ...(i < 2000 ? [absent[i]!] : []), ...(i % 7 === 0 ? [blobs[(i * 13) % 3000]!.digest, absent[i % 2000]!] : []))
    const wrongSize = { hash: blobs[5]!.digest.hash, sizeBytes: 41 }
    asked.push(wrongSize)
    const expected = asked.filter((d) => d === wrongSize || absent.includes(d))
    expect(await reopened.findMissing(asked)).toEqual(expected)
  })

  it('reads a range of a file blob', async () => {
    const store = await openStore()
    const data = randomBytes(300_000)
    await store.put(digestOf(data), data)
    expect(sameBytes(await streamAll(store, digestOf(data), { offset: 1000, limit: 5000 }), data.subarray(1000, 6000))).toBe(true)
    expect(sameBytes(await streamAll(store, digestOf(data), { offset: 299_990 }), data.subarray(299_990))).toBe(true)
  })

  it('rejects bytes that do not match their digest and stores nothing', async () => {
    const store = await openStore()
    const data = randomBytes(5000)
    const wrong = { hash: digestOf(randomBytes(10)).hash, sizeBytes: 5000 }
    await expect(store.put(wrong, data)).rejects.toBeInstanceOf(DigestMismatchError)
    const writer = store.createWriter(wrong)
    await writer.write(data)
    await expect(writer.commit()).rejects.toBeInstanceOf(DigestMismatchError)
    expect(await store.has(wrong)).toBe(false)
    expect(store.stats().blobCount).toBe(0)
    expect(await readdir(join(dirs[0]!, 'tmp'))).toEqual([])
  })

  it('stops a streamed write as soon as it grows past its digest size', async () => {
    const store = await openStore()
    const data = randomBytes(4000)
    const writer = store.createWriter({ hash: digestOf(data).hash, sizeBytes: 3000 })
    await expect(writer.write(data)).rejects.toBeInstanceOf(BlobTooLongError)
    expect(await readdir(join(dirs[0]!, 'tmp'))).toEqual([])
  })

  it('streams a large blob through a temp file and commits it only when verified', async () => {
    const store = await openStore()
    const data = randomBytes(3 * 1024 * 1024)
    const d = digestOf(data)
    const writer = store.createWriter(d)
    for (let at = 0; at < data.length; at += 64 * 1024) await writer.write(data.subarray(at, at + 64 * 1024))
    expect(await store.has(d)).toBe(false)
    expect((await readdir(join(dirs[0]!, 'tmp'))).length).toBe(1)
    await writer.commit()
    expect(await store.has(d)).toBe(true)
    expect(await readdir(join(dirs[0]!, 'tmp'))).toEqual([])
    expect(sameBytes(await readFile(join(dirs[0]!, 'cas', d.hash.slice(0, 2), d.hash)), data)).toBe(true)
  })

  it('gathers pieces of any size into whole-buffer writes without mixing up concurrent blobs', async () => {
    const store = await openStore()
    // Odd piece sizes that straddle the 1 MiB gathering buffers, one piece larger than a buffer
    // arriving while one is half full, and a blob under 1 MiB (gathered whole).
    const pieceSizes = [1, 7 * 1024 + 3, 1024 * 1024 + 17, 500_000, 65_536, 3]
    const blobs = [5 * 1024 * 1024 + 11, 3 * 1024 * 1024, 2 * 1024 * 1024 + 5, 100 * 1024 + 1].map((n) => randomBytes(n))
    const writers = blobs.map((data) => ({ data, digest: digestOf(data), writer: store.createWriter(digestOf(data)), at: 0, turn: 0 }))
    while (writers.some((w) => w.at < w.data.length)) {
      for (const w of writers) {
        if (w.at >= w.data.length) continue
        const n = pieceSizes[w.turn++ % pieceSizes.length]!
        await w.writer.write(w.data.subarray(w.at, w.at + n))
        w.at += n
      }
    }
    for (const w of writers) await w.writer.commit()
    for (const w of writers) expect(sameBytes((await streamAll(store, w.digest))!, w.data)).toBe(true)
    // A gathered blob whose bytes are wrong leaves nothing behind.
    const good = randomBytes(2 * 1024 * 1024 + 9)
    const bad = Buffer.from(good)
    bad[1024 * 1024 + 100] ^= 1
    const writer = store.createWriter(digestOf(good))
    for (let at = 0; at < bad.length; at += 10_000) await writer.write(bad.subarray(at, at + 10_000))
    await expect(writer.commit()).rejects.toBeInstanceOf(DigestMismatchError)
    expect(await store.has(digestOf(good))).toBe(false)
    expect(await readdir(join(dirs[0]!, 'tmp'))).toEqual([])
  })

  it('applies overlapping writes in call order (a resumed upload writing while the old stream still waits)', async () => {
    const store = await openStore()
    const MiB = 1024 * 1024
    const data = randomBytes(2 * MiB + 64 * 1024)
    const d = digestOf(data)
    const writer = store.createWriter(d)
    const first = MiB - 8 * 1024
    await writer.write(data.subarray(0, first))
    // A chunk that straddles a 1 MiB gathering buffer, and the rest, written without waiting.
    const a = writer.write(data.subarray(first, first + 16 * 1024))
    const b = writer.write(data.subarray(first + 16 * 1024))
    await Promise.all([a, b])
    await writer.commit()
    expect(sameBytes((await streamAll(store, d))!, data)).toBe(true)
    expect(sameBytes(await readFile(join(dirs[0]!, 'cas', d.hash.slice(0, 2), d.hash)), data)).toBe(true)
  })

  it('finishes a commit whole when an abort arrives during it: the stored file is complete', async () => {
    const store = await openStore()
    const data = randomBytes(3 * 1024 * 1024 + 5000)
    const d = digestOf(data)
    const writer = store.createWriter(d)
    for (let at = 0; at < data.length; at += 64 * 1024) await writer.write(data.subarray(at, at + 64 * 1024))
    // A slow disk, so the commit still has writes in flight when the abort arrives.
    const probe = await open(join(dirs[0]!, 'probe'), 'w')
    const handlePrototype = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> }
    await probe.close()
    const realWrite = handlePrototype.write
    handlePrototype.write = async function (this: unknown, ...args: unknown[]) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      return await realWrite.apply(this, args)
    }
    try {
      const commit = writer.commit()
      const abort = writer.abort() // e.g. abortAll() at shutdown
      await commit
      // Visible only once every byte is in the file.
      expect(await store.has(d)).toBe(true)
      expect(sameBytes(await readFile(join(dirs[0]!, 'cas', d.hash.slice(0, 2), d.hash)), data)).toBe(true)
      await abort
    } finally {
      handlePrototype.write = realWrite
    }
    expect(await store.has(d)).toBe(true)
    // And an abort before the commit wins: nothing stored, no temp file.
    const other = randomBytes(2 * 1024 * 1024)
    const w2 = store.createWriter(digestOf(other))
    await w2.write(other.subarray(0, 1024 * 1024 + 3))
    await w2.abort()
    await expect(w2.commit()).rejects.toBeInstanceOf(WriteAbortedError)
    expect(await store.has(digestOf(other))).toBe(false)
    expect(await readdir(join(dirs[0]!, 'tmp'))).toEqual([])
  })

  it('stores one copy when several writers send the same digest at once', async () => {
    const store = await openStore()
    const data = randomBytes(500_000)
    const d = digestOf(data)
    await Promise.all(Array.from({ length: 8 }, async () => {
      const writer = store.createWriter(d)
      for (let at = 0; at < data.length; at += 50_000) await writer.write(data.subarray(at, at + 50_000))
      await writer.commit()
    }))
    expect(store.stats()).toMatchObject({ blobCount: 1, totalBytes: 500_000 })
    expect(sameBytes(await streamAll(store, d), data)).toBe(true)
    expect(await readdir(join(dirs[0]!, 'tmp'))).toEqual([])
  })

  it('refuses a blob larger than the whole quota', async () => {
    const store = await openStore({ maxSizeBytes: 10_000 })
    const data = randomBytes(20_000)
    expect(() => store.createWriter(digestOf(data))).toThrow(BlobTooLargeError)
    await expect(store.put(digestOf(data), data)).rejects.toBeInstanceOf(BlobTooLargeError)
  })

  it('evicts least-recently-used blobs down to the low watermark when over the high watermark', async () => {
    const store = await openStore({ maxSizeBytes: 100_000, highWatermark: 0.9, lowWatermark: 0.5, recentProtectionMs: 0 })
    const blobs = Array.from({ length: 9 }, () => randomBytes(10_000))
    for (const b of blobs) {
      await store.put(digestOf(b), b)
      await new Promise((resolve) => setTimeout(resolve, 3))
    }
    // 90 000 bytes: at the high watermark, nothing evicted yet.
    expect(store.stats().blobCount).toBe(9)
    const extra = randomBytes(10_000)
    await store.put(digestOf(extra), extra)
    await waitFor(() => store.stats().totalBytes <= 50_000, 'eviction below 50 kB', 5000)
    // The oldest went first; the newest survived.
    expect(await store.has(digestOf(blobs[0]!))).toBe(false)
    expect(await store.has(digestOf(extra))).toBe(true)
    expect(await store.has(digestOf(blobs[8]!))).toBe(true)
  })

  it('does not evict a blob while it is being read', async () => {
    const store = await openStore({ maxSizeBytes: 100_000, highWatermark: 0.9, lowWatermark: 0.1, recentProtectionMs: 0 })
    const first = randomBytes(40_000)
    await store.put(digestOf(first), first)
    const reader = await store.openReadStream(digestOf(first), {})
    const second = randomBytes(40_000)
    await store.put(digestOf(second), second)
    const result = await store.evict(0)
    expect(result.evictedBlobs).toBe(1)
    expect(await store.has(digestOf(first))).toBe(true)
    const parts: Buffer[] = []
    for await (const c of reader!) parts.push(c as Buffer)
    expect(Buffer.concat(parts)).toEqual(first)
    await store.evict(0)
    expect(await store.has(digestOf(first))).toBe(false)
  })

  it('stores a blob again when a client commits it while an eviction pass is deleting it', async () => {
    const store = await openStore({ maxSizeBytes: 1_000_000, recentProtectionMs: 0 })
    const data = randomBytes(50_000)
    const d = digestOf(data)
    await store.put(d, data)
    // Hold the eviction's index batch open so the commit lands in the middle of the pass.
    delayFirstIndexDeletion(store, 200)
    const eviction = store.evict(0)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await store.put(d, data)
    expect((await eviction).evictedBlobs).toBe(1)
    expect(await store.has(d)).toBe(true)
    expect(sameBytes(await streamAll(store, d), data)).toBe(true)
  })

  it('does not keep answering "stored" from memory for a blob an eviction pass removed while it was looked up', async () => {
    const store = await openStore({ maxSizeBytes: 1_000_000, recentProtectionMs: 0 })
    const data = randomBytes(50_000)
    const d = digestOf(data)
    await store.put(d, data)
    expect(await store.has(d)).toBe(true)
    // Hold the eviction's index batch open and look the blob up while it is being removed.
    delayFirstIndexDeletion(store, 200)
    const eviction = store.evict(0)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await store.findMissing([d])
    expect((await eviction).evictedBlobs).toBe(1)
    expect(await store.findMissing([d])).toEqual([d])
    expect(await store.has(d)).toBe(false)
    expect(store.removals).toBe(1)
  })

  it('stops serving an inline blob it read a moment ago once the blob is evicted', async () => {
    const store = await openStore({ maxSizeBytes: 1_000_000, recentProtectionMs: 0 })
    const data = randomBytes(500)
    const d = digestOf(data)
    await store.put(d, data)
    // Read twice: the second read may be served from memory.
    expect(await store.read(d)).toEqual(data)
    expect(await store.read(d)).toEqual(data)
    expect((await store.evict(0)).evictedBlobs).toBe(1)
    expect(await store.read(d)).toBeUndefined()
    expect(await streamAll(store, d)).toBeUndefined()
    expect(await store.findMissing([d])).toEqual([d])
  })

  it('adopts a finished file as a blob without writing its bytes again, and refuses one that does not match', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const store = await openStore({}, dir)
    const data = randomBytes(300_000)
    const d = digestOf(data)
    const outside = join(dir, 'assembled')
    await writeFile(outside, data, { mode: 0o644 })
    await store.adoptFile(d, outside)
    const stored = join(dir, 'cas', d.hash.slice(0, 2), d.hash)
    // Linked, not copied, and private to the owner like every blob file.
    expect((await stat(stored)).ino).toBe((await stat(outside)).ino)
    expect((await stat(stored)).mode & 0o777).toBe(0o600)
    await rm(outside)
    expect(sameBytes(await store.read(d), data)).toBe(true)

    const other = randomBytes(300_000)
    const wrong = digestOf(randomBytes(300_000))
    await writeFile(outside, other)
    await expect(store.adoptFile(wrong, outside)).rejects.toBeInstanceOf(DigestMismatchError)
    await expect(store.adoptFile({ hash: digestOf(other).hash, sizeBytes: 299_999 }, outside)).rejects.toBeInstanceOf(DigestMismatchError)
    expect(await store.has(wrong)).toBe(false)
    expect(await readdir(join(dir, 'tmp'))).toEqual([])
    expect(store.stats().blobCount).toBe(1)
  })

  it('spares recently used blobs unless the store is over its whole quota', async () => {
    const store = await openStore({ maxSizeBytes: 100_000, highWatermark: 0.9, lowWatermark: 0.5, recentProtectionMs: 60_000 })
    const blobs = Array.from({ length: 9 }, () => randomBytes(10_000))
    for (const b of blobs) await store.put(digestOf(b), b)
    const result = await store.evict()
    expect(result.evictedBlobs).toBe(0)
    const more = Array.from({ length: 3 }, () => randomBytes(10_000))
    for (const b of more) await store.put(digestOf(b), b)
    await waitFor(() => store.stats().totalBytes <= 100_000, 'eviction below 100 kB', 5000)
    expect(store.stats().totalBytes).toBeLessThanOrEqual(100_000)
  })

  it('keeps data and index across a clean restart', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    let store = await openStore({}, dir)
    const small = randomBytes(10); const large = randomBytes(100_000)
    await store.put(digestOf(small), small)
    await store.put(digestOf(large), large)
    await store.names.put(actionResultName('inst', digestOf(small)), Buffer.from('result'))
    await store.close()
    store = await openStore({}, dir)
    expect(store.stats()).toMatchObject({ blobCount: 2, totalBytes: 100_010 })
    expect(sameBytes(await store.read(digestOf(small)), small)).toBe(true)
    expect(sameBytes(await streamAll(store, digestOf(large)), large)).toBe(true)
    expect(await store.names.get(actionResultName('inst', digestOf(small)))).toEqual(Buffer.from('result'))
    expect(await store.names.get(actionResultName('other', digestOf(small)))).toBeUndefined()
  })

  it('refuses a second store on the same data dir', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    await openStore({}, dir)
    await expect(LocalStore.open({ dataDir: dir, maxSizeBytes: 1000 })).rejects.toBeInstanceOf(DataDirLockedError)
  })

  it('repairs the index after an unclean stop: temp files removed, lost files dropped, orphans adopted or deleted', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const store = await openStore({}, dir)
    const kept = randomBytes(50_000); const lost = randomBytes(50_000)
    await store.put(digestOf(kept), kept)
    await store.put(digestOf(lost), lost)
    // Simulate a crash: the index is left marked dirty (we never call close()), then damage the files.
    await store.flushAccessTimes()
    const internal = store as unknown as { index: { db: { close(): Promise<void> } }, closed: boolean, flushTimer: NodeJS.Timeout }
    clearInterval(internal.flushTimer)
    internal.closed = true
    await internal.index.db.close()
    stores.splice(stores.indexOf(store), 1)
    const lostDigest = digestOf(lost)
    await rm(join(dir, 'cas', lostDigest.hash.slice(0, 2), lostDigest.hash))
    const orphan = randomBytes(70_000); const od = digestOf(orphan)
    await mkdir(join(dir, 'cas', od.hash.slice(0, 2)), { recursive: true })
    await writeFile(join(dir, 'cas', od.hash.slice(0, 2), od.hash), orphan)
    const liar = randomBytes(70_000); const fakeHash = digestOf(randomBytes(5)).hash
    await mkdir(join(dir, 'cas', fakeHash.slice(0, 2)), { recursive: true })
    await writeFile(join(dir, 'cas', fakeHash.slice(0, 2), fakeHash), liar)
    await writeFile(join(dir, 'tmp', 'half-written'), randomBytes(100))

    const reopened = await openStore({}, dir)
    expect(await reopened.has(digestOf(kept))).toBe(true)
    expect(await reopened.has(lostDigest)).toBe(false)
    expect(await reopened.has(od)).toBe(true)
    expect(sameBytes(await streamAll(reopened, od), orphan)).toBe(true)
    expect(await reopened.has({ hash: fakeHash, sizeBytes: 70_000 })).toBe(false)
    await expect(stat(join(dir, 'cas', fakeHash.slice(0, 2), fakeHash))).rejects.toThrow()
    expect(await readdir(join(dir, 'tmp'))).toEqual([])
    expect(reopened.stats()).toMatchObject({ blobCount: 2, totalBytes: 120_000 })
  })

  it('forgets a blob whose file was deleted by hand instead of serving nothing', async () => {
    const dir = await makeTempDir(); dirs.push(dir)
    const store = await openStore({}, dir)
    const data = randomBytes(20_000); const d = digestOf(data)
    await store.put(d, data)
    await rm(join(dir, 'cas', d.hash.slice(0, 2), d.hash))
    expect(await store.openReadStream(d)).toBeUndefined()
    expect(await store.has(d)).toBe(false)
    expect(store.stats().blobCount).toBe(0)
  })
})

/** Holds the store's first index batch that deletes anything open for `ms` (an eviction pass mid-write). */
function delayFirstIndexDeletion (store: LocalStore, ms: number): void {
  const db = (store as unknown as { index: { db: { batch: (...args: unknown[]) => Promise<void> } } }).index.db
  const batch = db.batch.bind(db)
  let delayed = false
  db.batch = async (...args: unknown[]) => {
    if (!delayed && JSON.stringify(args[0]).includes('"del"')) {
      delayed = true
      await new Promise((resolve) => setTimeout(resolve, ms))
    }
    return await batch(...args)
  }
}

function sameBytes (actual: Buffer | undefined, expected: Buffer): boolean {
  return actual !== undefined && actual.equals(expected)
}


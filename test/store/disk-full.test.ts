import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { makeTempDir, startTestNode, type TestNode } from '../helpers/node.js'
import { unary } from '../../node/reapi/clients.js'
import { digestOf, type Digest } from '../../node/store/digest.js'

/** Mounts a 64 MiB tmpfs for the data dir, or says why it cannot. */
async function mountSmallDisk (): Promise<{ dir: string, unmount: () => Promise<void> } | string> {
  const dir = await makeTempDir('peercas-full-')
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir], { stdio: 'pipe' })
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    return `cannot mount a tmpfs (${String((error as Error).message).split('\n')[0]}); run as root to test disk-full handling`
  }
  return {
    dir,
    unmount: async () => {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' })
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** Appends to `path` until the disk is full; resolves with the bytes written. */
async function fillDisk (path: string): Promise<number> {
  const handle = await open(path, 'w')
  let written = 0
  try {
    for (const size of [1024 * 1024, 4096, 1]) {
      const chunk = Buffer.alloc(size, 7)
      for (;;) {
        try {
          const { bytesWritten } = await handle.write(chunk)
          written += bytesWritten
          if (bytesWritten < size) break
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break
          throw error
        }
      }
    }
  } finally {
    await handle.close()
  }
  return written
}

const disk = await mountSmallDisk()

describe.skipIf(typeof disk === 'string')('a store on a disk that fills up', () => {
  if (typeof disk === 'string') it.skip(disk, () => {})
  const mounted = disk as Exclude<typeof disk, string>
  let dataDir: string
  let node: TestNode | undefined
  beforeAll(async () => {
    dataDir = join(mounted.dir, 'data')
    await mkdir(dataDir)
  })
  afterAll(async () => {
    try {
      await node?.stop()
    } finally {
      await mounted.unmount()
    }
  })

  const start = async (): Promise<TestNode> => await startTestNode({ maxSize: '1GiB' }, { dataDir, keepData: true })
  const update = async (n: TestNode, blobs: Buffer[]): Promise<number[]> =>
    (await unary(n.clients.cas.BatchUpdateBlobs.bind(n.clients.cas), { requests: blobs.map((b) => ({ digest: digestOf(b), data: b })) })).responses.map((r) => r.status!.code)
  const missing = async (n: TestNode, digests: Digest[]): Promise<number> =>
    (await unary(n.clients.cas.FindMissingBlobs.bind(n.clients.cas), { blobDigests: digests })).missingBlobDigests.length
  const updateResult = async (n: TestNode, action: Digest): Promise<void> => {
    await unary(n.clients.actionCache.UpdateActionResult.bind(n.clients.actionCache), { actionDigest: action, actionResult: { exitCode: 0, stdoutRaw: Buffer.from(action.hash) } })
  }
  const getResult = async (n: TestNode, action: Digest): Promise<number> => {
    try {
      await unary(n.clients.actionCache.GetActionResult.bind(n.clients.actionCache), { actionDigest: action })
      return status.OK
    } catch (error) {
      return (error as { code: number }).code
    }
  }

  it('answers RESOURCE_EXHAUSTED while full, keeps serving reads, and loses nothing it acknowledged once space is freed', async () => {
    node = await start()
    const before = Array.from({ length: 200 }, () => randomBytes(1000))
    expect(new Set(await update(node, before))).toEqual(new Set([status.OK]))

    const filler = join(mounted.dir, 'filler')
    await fillDisk(filler)
    // Write until the index refuses; nothing refused is acknowledged.
    const refused: number[] = []
    const acknowledgedWhileFull: Buffer[] = []
    for (let i = 0; i < 200 && refused.length === 0; i++) {
      const batch = Array.from({ length: 20 }, () => randomBytes(1000))
      const codes = await update(node, batch)
      batch.forEach((b, j) => { if (codes[j] === status.OK) acknowledgedWhileFull.push(b); else refused.push(codes[j]!) })
    }
    expect(refused.length).toBeGreaterThan(0)
    expect(new Set(refused)).toEqual(new Set([status.RESOURCE_EXHAUSTED]))
    // Reads go on while the disk is full.
    expect(await missing(node, before.map(digestOf))).toBe(0)
    const one = await unary(node.clients.cas.BatchReadBlobs.bind(node.clients.cas), { digests: [digestOf(before[0]!)] })
    expect(one.responses[0]!.data.equals(before[0]!)).toBe(true)

    await rm(filler)
    const after = Array.from({ length: 100 }, () => randomBytes(1000))
    expect(new Set(await update(node, after))).toEqual(new Set([status.OK]))
    const actions = [digestOf(randomBytes(32)), digestOf(randomBytes(32))]
    for (const action of actions) await updateResult(node, action)

    // Kill -9 would keep no more than a clean stop: the acknowledged writes are in LevelDB's log.
    await node.stop()
    node = await start()
    expect(await missing(node, before.map(digestOf))).toBe(0)
    expect(await missing(node, acknowledgedWhileFull.map(digestOf))).toBe(0)
    expect(await missing(node, after.map(digestOf))).toBe(0)
    for (const action of actions) expect(status[await getResult(node, action)]).toBe('OK')
  })

  it('fills up again and recovers again; a stop while full is clean and loses nothing', async () => {
    node ??= await start()
    const filler = join(mounted.dir, 'filler')
    const acknowledged: Buffer[] = []
    for (let round = 0; round < 2; round++) {
      await fillDisk(filler)
      let refused = 0
      for (let i = 0; i < 200 && refused === 0; i++) {
        const batch = Array.from({ length: 20 }, () => randomBytes(1000))
        const codes = await update(node, batch)
        batch.forEach((b, j) => { if (codes[j] === status.OK) acknowledged.push(b); else refused++ })
        expect(codes.filter((c) => c !== status.OK && c !== status.RESOURCE_EXHAUSTED)).toEqual([])
      }
      expect(refused).toBeGreaterThan(0)
      if (round === 1) {
        // Stopped while the disk is still full: no crash, and nothing acknowledged is lost.
        await node.stop()
        node = undefined
      }
      await rm(filler)
      node ??= await start()
      const more = Array.from({ length: 50 }, () => randomBytes(1000))
      expect(new Set(await update(node, more))).toEqual(new Set([status.OK]))
      acknowledged.push(...more)
    }
    await node.stop()
    node = await start()
    expect(await missing(node, acknowledged.map(digestOf))).toBe(0)
  })

  it('says how little space is free when the index cannot be opened for lack of it', async () => {
    await node?.stop()
    node = undefined
    const filler = join(mounted.dir, 'filler')
    await fillDisk(filler)
    try {
      await expect(start()).rejects.toThrow(/cannot open the index .* MiB are free on its disk.*free some space/)
    } finally {
      await rm(filler)
    }
    node = await start()
    expect(node.store.stats().blobCount).toBeGreaterThan(0)
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { cp, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadConfig } from '../../node/config/load.js'
import { createLogger } from '../../node/log/logger.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { LocalStore } from '../../node/store/local-store.js'
import { openIndexDb } from '../../node/store/index-db.js'
import { startP2p, type P2pService } from '../../node/p2p/index.js'
import { makeTempDir } from '../helpers/node.js'
import { TEST_P2P, startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

const logger = createLogger('peer', { level: 'error' })

/** A store and its p2p layer on `dataDir`, counting the reads of the whole store (summary builds). */
interface Session {
  store: LocalStore
  p2p: P2pService
  scans: () => number
  stop: () => Promise<void>
}

async function startSession (dataDir: string, p2p: Record<string, unknown> = {}): Promise<Session> {
  const store = await LocalStore.open({ dataDir, maxSizeBytes: 1 << 30, logger })
  let scans = 0
  const digests = store.digests.bind(store)
  store.digests = async function * (options?: { accessedSince?: number }): AsyncGenerator<Digest> {
    scans++
    yield * digests(options)
  }
  const config = loadConfig({ env: {}, flags: { dataDir, p2p: { ...TEST_P2P, ...p2p } } })
  const service = (await startP2p({ config, store, logger }))!
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    await service.stop()
    await store.close()
  }
  cleanups.push(stop)
  return { store, p2p: service, scans: () => scans, stop }
}

async function putRandom (store: LocalStore, count: number, size = 100): Promise<Digest[]> {
  const digests: Digest[] = []
  for (let i = 0; i < count; i++) {
    const data = randomBytes(size)
    await store.put(digestOf(data), data)
    digests.push(digestOf(data))
  }
  return digests
}

/** Waits until a fresh peer of `session` learns from its summary that it holds every one of `digests`. */
async function peerFinds (session: Session, digests: Digest[]): Promise<void> {
  const peer = await startP2pTestNode({ peers: [session.p2p.addresses[0]!] })
  try {
    await waitFor(() => digests.every((d) => peer.p2p.candidates(d).includes(session.p2p.peerId)), 'the peer to learn every blob from the summary')
  } finally {
    await peer.stop()
  }
}

async function tempDir (): Promise<string> {
  const dir = await makeTempDir('peercas-saved-summary-')
  cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

describe('availability summary saved at a clean stop', () => {
  it('is loaded at the next start instead of reading the store, and takes the blobs added after', async () => {
    const dataDir = await tempDir()
    const first = await startSession(dataDir)
    const old = await putRandom(first.store, 300)
    await peerFinds(first, old)
    expect(first.scans()).toBe(1)
    await first.stop()

    const second = await startSession(dataDir)
    const fresh = await putRandom(second.store, 5)
    await peerFinds(second, [...old, ...fresh])
    expect(second.scans()).toBe(0)
    // FindMissing consults the loaded summary first: every stored blob is still found.
    const absent = [digestOf(randomBytes(10)), digestOf(randomBytes(11))]
    expect(await second.store.findMissing([...old, ...absent, ...fresh])).toEqual(absent)
    await second.stop()

    // Saved again at that stop, with the blobs added since the load.
    const third = await startSession(dataDir)
    await peerFinds(third, [...old, ...fresh])
    expect(third.scans()).toBe(0)
  }, 60_000)

  it('is not trusted when a blob was added after it was saved, or the store ran without it', async () => {
    const dataDir = await tempDir()
    const first = await startSession(dataDir)
    await peerFinds(first, await putRandom(first.store, 50))
    await first.p2p.stop()
    // Written after the summary was saved, before the store's clean stop: not in the summary,
    // which FindMissing no longer consults.
    const late = await putRandom(first.store, 1)
    expect(await first.store.findMissing(late)).toEqual([])
    await first.store.close()

    const second = await startSession(dataDir)
    await peerFinds(second, late)
    expect(second.scans()).toBe(1)
    await second.stop()

    // A session of the store without the p2p layer.
    const bare = await LocalStore.open({ dataDir, maxSizeBytes: 1 << 30, logger })
    const unannounced = await putRandom(bare, 1)
    await bare.close()

    const third = await startSession(dataDir)
    await peerFinds(third, [...late, ...unannounced])
    expect(third.scans()).toBe(1)
  }, 60_000)

  it('is not trusted after a run of an older version that added blobs', async () => {
    const dataDir = await tempDir()
    const first = await startSession(dataDir)
    await peerFinds(first, await putRandom(first.store, 20))
    await first.stop()
    const index = await openIndexDb(join(dataDir, 'index'))
    const saved = JSON.parse((await index.meta.get('stats'))!.toString('utf8')) as Record<string, unknown>
    await index.db.close()

    // An older version keeps the fields it does not know and writes its own totals over the rest.
    const older = await LocalStore.open({ dataDir, maxSizeBytes: 1 << 30, logger })
    const added = await putRandom(older, 1)
    const totals = older.stats()
    await older.close()
    const rewritten = await openIndexDb(join(dataDir, 'index'))
    await rewritten.meta.put('stats', Buffer.from(JSON.stringify({ ...saved, blobCount: totals.blobCount, totalBytes: totals.totalBytes, inlineBlobCount: totals.inlineBlobCount })))
    await rewritten.db.close()

    const second = await startSession(dataDir)
    await peerFinds(second, added)
    expect(second.scans()).toBe(1)
  }, 60_000)

  it('is not trusted after a crash: blobs the store adopts when it reconciles are in the summary', async () => {
    const dataDir = await tempDir()
    const crashed = await tempDir()
    const first = await startSession(dataDir)
    const old = await putRandom(first.store, 50)
    await peerFinds(first, old)
    await first.p2p.stop()
    // The data dir as a crash would leave it: the summary saved, the store not stopped...
    await cp(dataDir, crashed, { recursive: true })
    await first.store.close()
    // ...and a blob file renamed into place whose index write the crash lost.
    const data = randomBytes(20_000)
    const adopted = digestOf(data)
    await mkdir(join(crashed, 'cas', adopted.hash.slice(0, 2)), { recursive: true, mode: 0o700 })
    await writeFile(join(crashed, 'cas', adopted.hash.slice(0, 2), adopted.hash), data, { mode: 0o600 })

    const second = await startSession(crashed)
    expect(await second.store.findMissing([adopted])).toEqual([])
    await peerFinds(second, [...old, adopted])
    expect(second.scans()).toBe(1)
  }, 60_000)
})

describe('periodic re-summarise', () => {
  it('reads the store again only once a blob has left it', async () => {
    const dataDir = await tempDir()
    const session = await startSession(dataDir, { resummarizeInterval: '1s' })
    const [file] = await putRandom(session.store, 1, 20_000)
    await peerFinds(session, [file!])
    expect(session.scans()).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 2500))
    expect(session.scans()).toBe(1)

    // A blob file whose bytes went bad is quarantined: a removal.
    await writeFile(join(dataDir, 'cas', file!.hash.slice(0, 2), file!.hash), randomBytes(20_000))
    expect(await session.store.recheck(file!)).toBe(false)
    await waitFor(() => session.scans() === 2, 'a re-summarise that reads the store', 5000)
  }, 60_000)
})

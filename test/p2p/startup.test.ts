import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { unary } from '../../node/reapi/clients.js'
import { loadConfig } from '../../node/config/load.js'
import { createLogger } from '../../node/log/logger.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { LocalStore } from '../../node/store/local-store.js'
import { startP2p, type P2pService } from '../../node/p2p/index.js'
import { makeTempDir } from '../helpers/node.js'
import { TEST_P2P, startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

describe('p2p start with a full store', () => {
  it('does not wait for the availability summary, and a peer connecting before it is built still finds old and new blobs', async () => {
    const dataDir = await makeTempDir('peercas-startup-')
    cleanups.push(async () => { await rm(dataDir, { recursive: true, force: true }) })
    const logger = createLogger('peer', { level: 'error' })
    const store = await LocalStore.open({ dataDir, maxSizeBytes: 1 << 30, logger })
    cleanups.push(async () => { await store.close() })
    const old = randomBytes(2000)
    await store.put(digestOf(old), old)
    for (let i = 0; i < 2000; i++) { const b = randomBytes(64); await store.put(digestOf(b), b) }

    // The summary build iterates the store; hold it at its first step until the test lets go.
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    cleanups.push(async () => { release() })
    let built = false
    const digests = store.digests.bind(store)
    store.digests = async function * (): AsyncGenerator<Digest> {
      await gate
      yield * digests()
      built = true
    }

    const config = loadConfig({ env: {}, flags: { dataDir, p2p: TEST_P2P } })
    const started = await Promise.race([
      startP2p({ config, store, logger }),
      new Promise<'still waiting'>((resolve) => setTimeout(() => { resolve('still waiting') }, 5000))
    ])
    expect(started).not.toBe('still waiting')
    const p2p = started as P2pService
    cleanups.push(async () => { await p2p.stop() })
    expect(built).toBe(false)

    const node = await startP2pTestNode({ peers: [p2p.addresses[0]!] })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.peers().some((p) => p.peerId === p2p.peerId && p.connected), 'the early peer to connect')
    const fresh = randomBytes(3000)
    await store.put(digestOf(fresh), fresh)
    await new Promise((resolve) => setTimeout(resolve, 300))
    // No summary yet rather than one that lacks stored blobs.
    expect(node.p2p.peers().find((p) => p.peerId === p2p.peerId)!.blobsAdvertised).toBe(0)

    release()
    await waitFor(() => node.p2p.candidates(digestOf(old)).length === 1 && node.p2p.candidates(digestOf(fresh)).length === 1, 'the summary to name the old and the new blob')
    expect(built).toBe(true)
    // FindMissing consults the summary once built: the blob added while it was built is in it.
    expect(await store.findMissing([digestOf(old), digestOf(fresh)])).toEqual([])
    for (const data of [old, fresh]) {
      const read = await unary(node.clients.cas.BatchReadBlobs.bind(node.clients.cas), { digests: [digestOf(data)] })
      expect(Buffer.compare(read.responses[0]!.data, data)).toBe(0)
    }
  }, 30_000)
})

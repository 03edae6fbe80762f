// The fetching side of the peer-fetch cases, in its own process: a real peercas p2p node (the
// same LocalStore + startP2p that `peercas serve` runs, without the gRPC server) on 127.0.0.1
// with mDNS off, connected only to the static peers it is given. The clock covers
// PeerFetcher.fetchInto — choosing candidates, the fetch protocol, SHA-256 while receiving,
// writing to disk and committing — i.e. the peer tier of a read, without the gRPC hop.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../node/config/load.js'
import { createLogger } from '../../node/log/logger.js'
import { startP2p, type P2pService } from '../../node/p2p/index.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { LocalStore } from '../../node/store/local-store.js'
import { serveWorker } from '../lib/worker.js'
import { randomBuffer, textBuffer } from '../lib/random.js'

const logger = createLogger('bench-fetcher', { level: (process.env.PEERCAS_BENCH_LOG as 'info' | undefined) ?? 'error' })

/** The long-lived node of the start/fetchOne/stopNode ops (herd runs: started, then told to go). */
let held: { node: P2pService, store: LocalStore, dataDir: string } | undefined

async function stopHeld (): Promise<void> {
  if (held === undefined) return
  const { node, store, dataDir } = held
  held = undefined
  await node.stop()
  await store.close()
  await rm(dataDir, { recursive: true, force: true })
}

serveWorker({
  /** Starts a fresh node (empty store) with `p2p` settings (listen, peers…); returns its addresses. */
  async start ({ p2p }: { p2p: Record<string, unknown> }) {
    await stopHeld()
    const dataDir = await mkdtemp(join(tmpdir(), 'peercas-bench-fetcher-'))
    const config = loadConfig({ env: {}, flags: { dataDir, maxSize: '64GiB', p2p: { enabled: true, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, announceInterval: '50ms', ...p2p } } })
    const store = await LocalStore.open({ dataDir, maxSizeBytes: config.maxSize, logger })
    const node = await startP2p({ config, store, logger })
    if (node === undefined) throw new Error('p2p did not start')
    held = { node, store, dataDir }
    return { peerId: node.peerId, addresses: node.addresses }
  },

  /** Dials peers of the started node (a LAN's full mesh). */
  async connect ({ addresses }: { addresses: string[] }) {
    if (held === undefined) throw new Error('no node started')
    for (const address of addresses) await held.node.dial(address, AbortSignal.timeout(20_000))
    return {}
  },

  /** Waits until the started node has `count` candidates for `digest`. */
  async waitCandidates ({ digest, count }: { digest: Digest, count: number }) {
    const deadline = Date.now() + 30_000
    while (held === undefined || held.node.candidates(digest).length < count) {
      if (Date.now() > deadline) throw new Error(`peers' summaries did not arrive within 30 s`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return {}
  },

  /** Fetches `digest` with the started node; returns ms. */
  async fetchOne ({ digest }: { digest: Digest }) {
    if (held === undefined) throw new Error('no node started')
    const started = performance.now()
    const ok = await held.node.blobFetcher.fetchInto(digest, AbortSignal.timeout(600_000))
    if (!ok) throw new Error(`peer fetch of ${digest.hash} failed`)
    return { ms: performance.now() - started }
  },

  async stopNode () {
    await stopHeld()
    return {}
  },

  /**
   * Writes the same random blobs (one per entry of `sizes`; compressible text with `text`) into
   * each store in `dirs` (stores of nodes not running yet); returns their digests.
   */
  async seed ({ dirs, sizes, text }: { dirs: string[], sizes: number[], text?: boolean }) {
    const digests: Digest[] = []
    const stores = await Promise.all(dirs.map(async (dataDir) => await LocalStore.open({ dataDir, maxSizeBytes: 64 * 1024 ** 3 })))
    try {
      for (const size of sizes) {
        const data = text === true ? textBuffer(size) : randomBuffer(size)
        const digest = digestOf(data)
        for (const store of stores) await store.put(digest, data)
        digests.push(digest)
      }
    } finally {
      for (const store of stores) await store.close()
    }
    return { digests }
  },

  /**
   * Starts a fresh node (empty store) peered with `peers`, waits until every digest has
   * `peers.length` candidates, then fetches the digests one at a time; returns ms per fetch.
   * `p2p` holds other p2p settings, and must say `psk` (team key file) or `open: true`.
   */
  async fetch ({ peers, digests, p2p }: { peers: string[], digests: Digest[], p2p?: Record<string, unknown> }) {
    const dataDir = await mkdtemp(join(tmpdir(), 'peercas-bench-fetcher-'))
    const config = loadConfig({ env: {}, flags: { dataDir, maxSize: '64GiB', p2p: { enabled: true, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, peers, announceInterval: '50ms', ...p2p } } })
    const store = await LocalStore.open({ dataDir, maxSizeBytes: config.maxSize, logger })
    const node = await startP2p({ config, store, logger })
    if (node === undefined) throw new Error('p2p did not start')
    try {
      const deadline = Date.now() + 30_000
      while (!digests.every((d) => node.candidates(d).length >= peers.length)) {
        if (Date.now() > deadline) throw new Error(`peers' summaries did not arrive within 30 s (${node.candidates(digests[0]!).length} of ${peers.length} candidates)`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      const ms: number[] = []
      for (const digest of digests) {
        const started = performance.now()
        const ok = await node.blobFetcher.fetchInto(digest, AbortSignal.timeout(300_000))
        ms.push(performance.now() - started)
        if (!ok) throw new Error(`peer fetch of ${digest.hash} failed`)
      }
      return { ms }
    } finally {
      await node.stop()
      await store.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
})

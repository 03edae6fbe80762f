import { afterAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { readFile, rm } from 'node:fs/promises'
import { digestOf } from '../../node/store/digest.js'
import { LocalStore } from '../../node/store/local-store.js'
import { makeTempDir } from '../helpers/node.js'
import { runPeercas, type PeercasProcess } from '../helpers/process.js'
import { startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'

// A measurement, not a check: run with PEERCAS_BENCH=1 (moves 600 MB; ~30 s). The serving peers
// are separate `peercas serve` processes, as on a LAN; the fetching node runs in the test.
const enabled = process.env.PEERCAS_BENCH === '1'

describe.skipIf(!enabled)('peer-fetch throughput (PEERCAS_BENCH=1)', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterAll(async () => { for (const c of cleanups.reverse()) await c().catch(() => {}) })

  const measure = async (label: string, env: NodeJS.ProcessEnv): Promise<void> => {
    const size = 200 * 1000 * 1000
    const data = randomBytes(size)
    const digest = digestOf(data)
    const servers: string[] = []
    const stops: Array<() => Promise<void>> = []
    for (let i = 0; i < 2; i++) {
      const dir = await makeTempDir('peercas-bench-')
      cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
      const seed = await LocalStore.open({ dataDir: dir, maxSizeBytes: 1 << 30 })
      await seed.put(digest, data)
      await seed.close()
      const child: PeercasProcess = runPeercas(['serve', '--data-dir', dir, '--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', '--max-size', '1GiB'], env)
      const stop = async (): Promise<void> => { child.child.kill('SIGTERM'); await child.exited }
      cleanups.push(stop)
      stops.push(stop)
      await child.ready
      servers.push((JSON.parse(await readFile(join(dir, 'node.json'), 'utf8')) as { p2p: string[] }).p2p[0]!)
    }
    for (const sources of [1, 2, 1, 2]) {
      const node = await startP2pTestNode({ peers: servers.slice(0, sources), flags: { maxSize: '1GiB' } })
      try {
        await waitFor(() => node.p2p.candidates(digest).length === sources, 'announcements')
        const started = performance.now()
        expect(await node.resolver.ensureLocal(digest)).toBe(true)
        const ms = performance.now() - started
        console.log(`[throughput] ${label}: 200 MB from ${sources} peer(s): ${(size / 1e6 / (ms / 1000)).toFixed(1)} MB/s (${ms.toFixed(0)} ms, verified and stored)`)
      } finally {
        await node.stop()
      }
    }
    for (const stop of stops) await stop()
  }

  it('prints MB/s for a 200 MB blob from one peer and from two peers', async () => {
    await measure('unlimited', {})
  }, 180_000)

  it('prints MB/s from one and two peers that each serve at most 40 MB/s', async () => {
    await measure('40 MB/s per serving peer', { PEERCAS_P2P_MAX_SERVE_RATE_PER_PEER: '40MB' })
  }, 180_000)
})

// A peer fetch between two `peercas serve` processes in their own network namespaces, over a
// shaped 1 Gbit/s veth link: the bytes arrive verified, at the link's pace, not loopback's.
import { afterAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { createClients, unary, byteStreamRead } from '../../node/reapi/clients.js'
import { LocalStore } from '../../node/store/local-store.js'
import { digestOf } from '../../node/store/digest.js'
import { makeTempDir } from '../helpers/node.js'
import { waitFor } from '../helpers/wait.js'
import { LAN_PROFILE, lanP2pAddress, lanSkipReason, measureTcpRate, startLan, startLanPeercas, type NetnsLan, type PeercasProcess } from '../helpers/lan.js'

const skip = lanSkipReason()

describe.skipIf(skip !== undefined)('peer fetch over a shaped LAN link', () => {
  let lan: NetnsLan | undefined
  const nodes: PeercasProcess[] = []
  const dirs: string[] = []
  afterAll(async () => {
    for (const node of nodes) await node.stop().catch(() => {})
    await lan?.destroy()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('fetches a 48 MB blob from a peer in another namespace at about the link rate, verified', async () => {
    lan = await startLan({ nodes: 2, profile: LAN_PROFILE })
    const data = randomBytes(48_000_000)
    const digest = digestOf(data)
    for (let i = 0; i < 2; i++) dirs.push(await makeTempDir('peercas-lan-'))
    const seeded = await LocalStore.open({ dataDir: dirs[0]!, maxSizeBytes: 1024 ** 3 })
    await seeded.put(digest, data)
    await seeded.close()
    nodes.push(await startLanPeercas(lan, 0, { dataDir: dirs[0]! }))
    nodes.push(await startLanPeercas(lan, 1, { dataDir: dirs[1]!, peers: [lanP2pAddress(lan, 0, nodes[0])] }))
    const link = await measureTcpRate(lan, 0, 1, 50_000_000)
    const client = createClients(nodes[1]!.target)
    try {
      await waitFor(async () => {
        const status = await unary(client.admin.GetStatus.bind(client.admin), {})
        return status.peers.some((p) => p.connected && Number(p.blobsAdvertised) >= 1)
      }, 'node B to receive node A\'s summary', 30_000)
      const started = performance.now()
      const parts: Buffer[] = []
      for await (const r of byteStreamRead(client.byteStream, digest)) parts.push(r.data)
      const seconds = (performance.now() - started) / 1000
      expect(Buffer.concat(parts).equals(data)).toBe(true)
      const mbps = data.byteLength / 1e6 / seconds
      console.log(`[lan] link ${link.toFixed(1)} MB/s (raw TCP), peer fetch + local read ${mbps.toFixed(1)} MB/s`)
      // The link caps it (random bytes: no compression can help).
      expect(mbps).toBeLessThan(link * 1.1)
      const status = await unary(client.admin.GetStatus.bind(client.admin), {})
      expect(Number(status.peers.find((p) => p.connected)!.bytesFetchedFrom)).toBeGreaterThanOrEqual(data.byteLength)
    } finally {
      client.close()
    }
  }, 120_000)
})

import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import * as grpc from '@grpc/grpc-js'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startTestNode, makeTempDir, type TestNode } from '../helpers/node.js'
import { startBarePeer, startP2pTestNode, waitFor, type BarePeer } from '../helpers/p2p-nodes.js'
import { randomBlobs, readBlob, writeBlobs } from '../helpers/remote-blobs.js'
import { formatStatus } from '../../node/cli/client-commands.js'
import type { GetStatusResponse__Output } from '../../node/generated/peercas/admin/v1/GetStatusResponse.js'
import { unary } from '../../node/reapi/clients.js'
import { REPO_ROOT } from '../helpers/process.js'

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p))

/**
 * One node with all three tiers behind it — a peer holding one blob, a central CAS (another
 * peercas) holding another — serving one read of each kind: a local hit, a peer hit, a central
 * hit and a miss.
 */
describe('status, metrics and dashboard reflect real traffic', () => {
  let central: TestNode
  let peer: BarePeer
  let node: TestNode
  let metricsUrl: string
  const [local, fromPeer, fromCentral, missing] = randomBlobs([2000, 300_000, 70_000, 100])

  beforeAll(async () => {
    central = await startTestNode({ listen: ['127.0.0.1:0'] })
    await writeBlobs(central.clients, [fromCentral!])
    peer = await startBarePeer()
    await peer.store.put(fromPeer!.digest, fromPeer!.data)
    node = await startP2pTestNode({
      peers: [peer.p2p.addresses[0]!],
      flags: { remote: { endpoint: `grpc://${central.tcpAddresses[0]!}` }, metrics: { listen: '127.0.0.1:0' } }
    })
    await waitFor(() => node.p2p!.candidates(fromPeer!.digest).length > 0, "the peer's availability summary")
    await writeBlobs(node.clients, [local!])
    expect(await readBlob(node.clients, local!.digest)).toEqual(local!.data)
    expect(await readBlob(node.clients, fromPeer!.digest)).toEqual(fromPeer!.data)
    expect(await readBlob(node.clients, fromCentral!.digest)).toEqual(fromCentral!.data)
    expect(await readBlob(node.clients, missing!.digest)).toBeUndefined()
    metricsUrl = (await node.status()).metricsUrl!
  }, 60_000)

  afterAll(async () => {
    await node?.stop()
    await peer?.stop()
    await central?.stop()
  })

  it('counts each tier, since start and over the last hour, and the bytes each tier delivered', async () => {
    const s = await unary(node.clients.admin.GetStatus.bind(node.clients.admin), {}) as GetStatusResponse__Output
    expect(s.hits).toMatchObject({ peerHits: 1, remoteHits: 1, misses: 1 })
    expect(s.hits!.localHits).toBeGreaterThanOrEqual(1)
    expect(s.hitsLastHour).toEqual({ ...s.hits, actionCacheHits: 0, actionCacheMisses: 0 })
    expect(s.peerBytesFetched).toBe(300_000)
    expect(s.centralBytesFetched).toBe(70_000)
    expect(s.staticPeers).toEqual([expect.objectContaining({ address: peer.p2p.addresses[0], connected: true, lastError: '' })])
    const text = formatStatus(s)
    expect(text).toMatch(/lookups: +since start +local \d+ \(\d+%\), peer 1 \(\d+%\), central 1 \(\d+%\), miss 1 \(\d+%\)/)
    expect(text).toMatch(/last hour +local \d+/)
    expect(text).toContain('fetched:   293.0 KiB from peers, 68.4 KiB from the central CAS')
    expect(text).toContain(`p2p:       ${node.p2p!.addresses[0]!}`)
    expect(text).toMatch(/central: +grpc:\/\/127\.0\.0\.1:\d+ online; upload queue \d+/)
    expect(text).toContain(`metrics:   ${metricsUrl}/metrics`)
  })

  it('exports Prometheus metrics by RPC, status and tier, with no per-digest or per-peer labels', async () => {
    const response = await fetch(`${metricsUrl}/metrics`)
    expect(response.status).toBe(200)
    const body = await response.text()
    expect(body).toMatch(/^peercas_blob_lookups_total\{tier="peer"\} 1$/m)
    expect(body).toMatch(/^peercas_blob_lookups_total\{tier="central"\} 1$/m)
    expect(body).toMatch(/^peercas_blob_lookups_total\{tier="miss"\} 1$/m)
    expect(body).toMatch(/^peercas_tier_fetched_bytes_total\{tier="peer"\} 300000$/m)
    expect(body).toMatch(/^peercas_tier_fetched_bytes_total\{tier="central"\} 70000$/m)
    expect(body).toMatch(/^peercas_tier_fetch_duration_seconds_count\{tier="peer",outcome="hit"\} 1$/m)
    expect(body).toMatch(/^peercas_tier_fetch_duration_seconds_count\{tier="central",outcome="hit"\} 1$/m)
    expect(body).toMatch(/^peercas_grpc_requests_total\{method="ByteStream\/Read",code="NOT_FOUND"\} 1$/m)
    expect(body).toMatch(/^peercas_grpc_requests_total\{method="ByteStream\/Read",code="OK"\} 3$/m)
    expect(body).toMatch(/^peercas_grpc_request_duration_seconds_count\{method="ByteStream\/Read"\} 4$/m)
    expect(body).toMatch(/^peercas_store_bytes \d+$/m)
    expect(body).toMatch(/^peercas_store_quota_bytes 10737418240$/m)
    expect(body).toMatch(/^peercas_peers\{state="connected"\} 1$/m)
    expect(body).toMatch(/^peercas_central_online 1$/m)
    expect(body).toMatch(/^peercas_upload_queue_items \d+$/m)
    expect(body).toMatch(/^peercas_evicted_blobs_total 0$/m)
    expect(body).not.toMatch(/[0-9a-f]{64}/)
    expect(body).not.toContain(node.p2p!.peerId)
    expect(body).not.toContain(peer.p2p.peerId)
    expect((await fetch(`${metricsUrl}/nope`)).status).toBe(404)
    const history = await (await fetch(`${metricsUrl}/api/history`)).json() as Array<{ t: number, hits: Record<string, number> }>
    expect(history.length).toBeGreaterThanOrEqual(1)
    expect(history[0]).toMatchObject({ t: expect.any(Number), hits: { localHits: expect.any(Number), peerHits: expect.any(Number) }, peerBytes: expect.any(Number) })
  })

  it('counts calls to methods it does not serve under one label, whatever path a client sends', async () => {
    const client = new grpc.Client(`unix:${node.socketPath}`, grpc.credentials.createInsecure())
    try {
      for (const name of ['zz9PluralZAlpha', 'zz9PluralZBeta']) {
        const code = await new Promise<number>((resolve) => {
          client.makeUnaryRequest(`/made.Up/${name}`, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (error) => { resolve(error?.code ?? 0) })
        })
        expect(code).toBe(grpc.status.UNIMPLEMENTED)
      }
    } finally {
      client.close()
    }
    await waitFor(async () => /^peercas_grpc_requests_total\{method="unknown\/unknown",code="UNIMPLEMENTED"\} 2$/m.test(await (await fetch(`${metricsUrl}/metrics`)).text()), 'both calls to be counted')
    const body = await (await fetch(`${metricsUrl}/metrics`)).text()
    expect(body).not.toContain('zz9Plural')
  })

  it.skipIf(CHROMIUM === undefined)('shows the node\'s real numbers on the dashboard in headless Chromium', async () => {
    const profile = await makeTempDir('peercas-chromium-')
    try {
      const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--virtual-time-budget=5000']
      const { stdout } = await promisify(execFile)(CHROMIUM!, [...flags, '--dump-dom', `${metricsUrl}/`], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 })
      const s = await node.status()
      expect(stdout).toContain(`<td class="n" id="hits-peer">1</td>`)
      expect(stdout).toContain(`<td class="n" id="hits-central">1</td>`)
      expect(stdout).toContain(`<td class="n" id="hits-miss">1</td>`)
      expect(stdout).toContain(`<td class="n" id="hour-peer">1</td>`)
      expect(stdout).toContain(`<td class="n" id="bytes-peer">293.0 KiB</td>`)
      expect(stdout).toContain(`<code id="peer-id">${s.peerId!}</code>`)
      expect(stdout).toContain('<span id="peers-connected">1</span>')
      expect(stdout).toMatch(/<td id="central-state" class="online">grpc:\/\/127\.0\.0\.1:\d+ online<\/td>/)
      expect(stdout).toMatch(/<span id="updated">\d/)
      // The page loads nothing from elsewhere.
      const page = await (await fetch(`${metricsUrl}/`)).text()
      expect(page).not.toMatch(/(src|href)="https?:/)
      const shot = join(profile, 'dashboard.png')
      await promisify(execFile)(CHROMIUM!, [...flags, '--window-size=1200,900', `--screenshot=${shot}`, `${metricsUrl}/`], { timeout: 60_000 })
      expect((await readFile(shot)).subarray(1, 4).toString()).toBe('PNG')
      if (process.env.PEERCAS_DASHBOARD_SCREENSHOT === '1') await promisify(execFile)('cp', [shot, join(REPO_ROOT, 'docs', 'dashboard.png')])
    } finally {
      await rm(profile, { recursive: true, force: true })
    }
  }, 120_000)
})

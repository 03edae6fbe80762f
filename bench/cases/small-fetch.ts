import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import type { BenchCase, Figure } from '../lib/case.js'
import { benchTeamKey } from '../lib/team-key.js'
import { median, round } from '../lib/stats.js'
import { randomBuffer } from '../lib/random.js'
import { loadConfig } from '../../node/config/load.js'
import { createLogger } from '../../node/log/logger.js'
import { startP2p, type P2pService } from '../../node/p2p/index.js'
import type { P2pNode } from '../../node/p2p/p2p-node.js'
import { createHost, type Host } from '../../node/p2p/host.js'
import { NameLookupProtocol } from '../../node/p2p/name-lookups.js'
import { FetchClient } from '../../node/p2p/fetch-client.js'
import { TrustPolicy } from '../../node/trust/policy.js'
import { ResultSigner } from '../../node/trust/signatures.js'
import { PeerBook } from '../../node/p2p/peer-book.js'
import { MAX_INLINE_BYTES } from '../../node/p2p/constants.js'
import { LocalStore } from '../../node/store/local-store.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { reapi } from '../../node/reapi/protos.js'
import { actionResultName } from '../../node/domain/names.js'

const logger = createLogger('bench-small-fetch', { level: 'error' })
const BLOB_BYTES = 4096
/** Fetches or lookups left out of the statistics at the start (connections, JIT). */
const WARM_UP = 50
/** Fetches in flight at once, and wants per request, in the throughput runs. */
const FAN_OUT = 16

/** A p2p node without gRPC, in this process, on 127.0.0.1. */
interface BarePeer { store: LocalStore, p2p: P2pService, stop(): Promise<void> }

async function startPeer (dataDir: string, psk: string, peers: string[] = []): Promise<BarePeer> {
  const config = loadConfig({ env: {}, flags: { dataDir, p2p: { enabled: true, psk, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, peers, announceInterval: '50ms' } } })
  const store = await LocalStore.open({ dataDir, maxSizeBytes: config.maxSize, logger })
  const p2p = await startP2p({ config, store, logger })
  if (p2p === undefined) throw new Error('p2p did not start')
  return { store, p2p, async stop () { await p2p.stop(); await store.close() } }
}

async function until (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Mean, median and p90 of the runs after the warm-up, in ms. */
function spread (times: number[]): { mean: number, median: number, p90: number } {
  const warm = times.slice(WARM_UP).sort((a, b) => a - b)
  return { mean: warm.reduce((a, b) => a + b, 0) / warm.length, median: median(warm), p90: warm[Math.floor(warm.length * 0.9)]! }
}

async function putRandom (store: LocalStore, count: number): Promise<Digest[]> {
  const digests: Digest[] = []
  for (let i = 0; i < count; i++) {
    const data = randomBuffer(BLOB_BYTES)
    const digest = digestOf(data)
    await store.put(digest, data)
    digests.push(digest)
  }
  return digests
}

/**
 * An asker of action results at `holder` with its own host and store: a NameLookupProtocol
 * asking for up to `maxInlineBytes` inline, and a FetchClient for outputs not carried inline.
 */
async function startAsker (dataDir: string, teamKey: Uint8Array, holder: P2pService, maxInlineBytes: number): Promise<{ lookupAndFetch: (action: Digest, output: Digest) => Promise<void>, stop: () => Promise<void> }> {
  const privateKey = await generateKeyPair('Ed25519')
  const host: Host = await createHost({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, staticPeers: [], teamKey, logger })
  const policy = new TrustPolicy({ mode: 'listed', listed: [holder.peerId], revoked: [], self: new ResultSigner(privateKey).peerId })
  const store = await LocalStore.open({ dataDir, maxSizeBytes: 1 << 30, logger })
  const book = new PeerBook({ maxStreamsPerPeer: 8, maxServeRatePerPeer: 0 })
  const lookups = new NameLookupProtocol({ libp2p: host.libp2p, store, logger, policy, stallTimeoutMs: 30_000, book, maxInlineBytes })
  const client = new FetchClient({ libp2p: host.libp2p, book, logger, stallTimeoutMs: 30_000, maxStreamsPerPeer: 8 })
  await host.start()
  await host.libp2p.dial(multiaddr(holder.addresses[0]!))
  return {
    async lookupAndFetch (action, output) {
      const bytes = await lookups.fetchNamed(actionResultName('', action), AbortSignal.timeout(10_000))
      if (bytes === undefined) throw new Error(`action ${action.hash} not found at the holder`)
      // What GetActionResult does on a local miss: make sure the output is here.
      if (!(await store.has(output)) && await client.fetchInto(holder.peerId, output, store, AbortSignal.timeout(10_000)) !== 'ok') {
        throw new Error(`output ${output.hash} not fetched`)
      }
    },
    async stop () {
      lookups.close()
      client.close()
      await host.stop()
      await store.close()
    }
  }
}

/**
 * Small blobs between two p2p nodes in this process on 127.0.0.1: the latency of one 4 KiB peer
 * fetch through the peer tier (PeerFetcher.fetchInto), the cost per blob of 16 fetches at once and
 * of 16 wants per request (what sync does), and of one action-result lookup plus its 4 KiB output
 * with and without the output carried inline in the answer.
 */
export const smallFetchCase: BenchCase = {
  name: 'small-fetch',
  keys: ['small_fetch_ms', 'small_fetch_16_at_once_ms', 'small_fetch_16_per_request_ms', 'ac_lookup_inline_ms', 'ac_lookup_no_inline_ms'],
  async run (ctx): Promise<Record<string, Figure>> {
    const count = ctx.quick ? 200 : 400
    // Every host behind one team key, as users run p2p.
    const key = await benchTeamKey(ctx.tmpDir)
    const stops: Array<() => Promise<void>> = []
    try {
      const holder = await startPeer(join(ctx.tmpDir, 'holder'), key.file)
      stops.push(holder.stop)
      const single = await putRandom(holder.store, count)
      const burst = await putRandom(holder.store, 2 * count)
      const node = await startPeer(join(ctx.tmpDir, 'node'), key.file, [holder.p2p.addresses[0]!])
      stops.push(node.stop)
      await until(() => [...single, ...burst].every((d) => node.p2p.candidates(d).length === 1), 'the holder\'s announcements')

      const fetchOne = async (digest: Digest): Promise<void> => {
        if (!(await node.p2p.blobFetcher.fetchInto(digest, AbortSignal.timeout(10_000)))) throw new Error(`peer fetch of ${digest.hash} failed`)
      }
      const times: number[] = []
      for (const digest of single) {
        const started = performance.now()
        await fetchOne(digest)
        times.push(performance.now() - started)
      }
      const one = spread(times)
      ctx.log(`  one 4 KiB fetch: mean ${round(one.mean, 2)} ms, median ${round(one.median, 2)} ms, p90 ${round(one.p90, 2)} ms (${count - WARM_UP} after ${WARM_UP} warm-up)`)

      const concurrent = burst.slice(0, count)
      let next = 0
      let started = performance.now()
      await Promise.all(Array.from({ length: FAN_OUT }, async () => {
        while (next < concurrent.length) await fetchOne(concurrent[next++]!)
      }))
      const atOnceMs = (performance.now() - started) / concurrent.length
      const client = (node.p2p as P2pNode).fetchClient
      const batched = burst.slice(count)
      started = performance.now()
      for (let i = 0; i < batched.length; i += FAN_OUT) {
        const wants = batched.slice(i, i + FAN_OUT)
        const session = await client.open(holder.p2p.peerId, wants.map((digest) => ({ digest })), AbortSignal.timeout(10_000))
        try {
          for (const digest of wants) {
            const header = await session.header()
            if (header.status !== 'OK') throw new Error(`fetch of ${digest.hash} answered ${header.status}`)
            const writer = node.store.createWriter(digest)
            for await (const chunk of session.body(header.length)) await writer.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))
            await writer.commit()
          }
        } finally {
          session.close()
        }
      }
      const perRequestMs = (performance.now() - started) / batched.length
      ctx.log(`  4 KiB × ${count}: ${FAN_OUT} at once ${round(atOnceMs, 3)} ms/blob; ${FAN_OUT} per request ${round(perRequestMs, 3)} ms/blob`)

      const lookups: Record<number, { mean: number, median: number, p90: number }> = {}
      for (const maxInlineBytes of [MAX_INLINE_BYTES, 0]) {
        const actions: Array<{ action: Digest, output: Digest }> = []
        for (const output of await putRandom(holder.store, count)) {
          const action = digestOf(randomBuffer(64))
          await holder.store.names.put(actionResultName('', action), reapi.ActionResult.serialize({ outputFiles: [{ path: 'out', digest: output }], exitCode: 0 }))
          actions.push({ action, output })
        }
        const asker = await startAsker(join(ctx.tmpDir, `asker-${maxInlineBytes}`), key.psk, holder.p2p, maxInlineBytes)
        stops.push(asker.stop)
        const lookupTimes: number[] = []
        for (const { action, output } of actions) {
          const begun = performance.now()
          await asker.lookupAndFetch(action, output)
          lookupTimes.push(performance.now() - begun)
        }
        lookups[maxInlineBytes] = spread(lookupTimes)
        ctx.log(`  action lookup + 4 KiB output, inline ≤ ${maxInlineBytes} B: mean ${round(lookups[maxInlineBytes].mean, 2)} ms, median ${round(lookups[maxInlineBytes].median, 2)} ms, p90 ${round(lookups[maxInlineBytes].p90, 2)} ms`)
      }
      const inline = lookups[MAX_INLINE_BYTES]!
      const noInline = lookups[0]!
      ctx.detail.smallFetch = { blobBytes: BLOB_BYTES, count, warmUp: WARM_UP, one, atOnceMs, perRequestMs, lookupInline: inline, lookupNoInline: noInline }
      const after = `${count - WARM_UP} after ${WARM_UP} warm-up`
      return {
        small_fetch_ms: { value: round(one.mean, 2), note: `mean; median ${round(one.median, 2)}, p90 ${round(one.p90, 2)} ms; ${after}` },
        small_fetch_16_at_once_ms: { value: round(atOnceMs, 3), note: `${count} fetches, ${FAN_OUT} in flight` },
        small_fetch_16_per_request_ms: { value: round(perRequestMs, 3), note: `${count} blobs, ${FAN_OUT} wants per request, one request at a time` },
        ac_lookup_inline_ms: { value: round(inline.mean, 2), note: `mean; median ${round(inline.median, 2)}, p90 ${round(inline.p90, 2)} ms; ${after}` },
        ac_lookup_no_inline_ms: { value: round(noInline.mean, 2), note: `mean; median ${round(noInline.median, 2)}, p90 ${round(noInline.p90, 2)} ms; the output fetched on a fetch stream; ${after}` }
      }
    } finally {
      for (const stop of stops.reverse()) await stop().catch(() => {})
    }
  }
}

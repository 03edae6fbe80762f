import * as grpc from '@grpc/grpc-js'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { BlobFetcher } from '../resolve/tiered-resolver.js'
import type { Digest } from '../store/digest.js'
import type { GetStatusResponse } from '../generated/peercas/admin/v1/GetStatusResponse.js'
import { HIT_WINDOW_MS, HIT_SAMPLE_INTERVAL_MS, HISTORY_INTERVAL_MS, HISTORY_WINDOW_MS, RPC_SECONDS_BUCKETS, FETCH_SECONDS_BUCKETS, SNAPSHOT_REUSE_MS } from './constants.js'

/** Blob lookups by where they were answered. */
export interface TierCounts {
  localHits: number
  peerHits: number
  remoteHits: number
  misses: number
}

/** What the metrics read from the node when scraped. */
export interface MetricsSource {
  /** Cumulative blob lookups per tier (the resolver's counters). */
  tierCounts(): TierCounts
  /** Blobs and bytes evicted since start. */
  evicted(): { blobs: number, bytes: number }
  /** The node's status (store, peers, central, queue). */
  status(): Promise<GetStatusResponse>
}

/** One point of the dashboard's history: cumulative counts at a time. */
export interface HistoryPoint {
  /** Epoch ms. */
  t: number
  hits: TierCounts
  peerBytes: number
  centralBytes: number
}

/** Options of {@link NodeMetrics}. */
export interface NodeMetricsInit {
  /** Clock (ms). @default Date.now */
  now?: () => number
}

const TIERS: Array<[keyof TierCounts, 'local' | 'peer' | 'central' | 'miss']> = [['localHits', 'local'], ['peerHits', 'peer'], ['remoteHits', 'central'], ['misses', 'miss']]

/**
 * The node's counters for `peercas status` and Prometheus: RPC outcomes (recorded once, by a
 * gRPC server interceptor), tier fetch latency and bytes (by wrapping the fetchers), lookups per
 * tier over a sliding hour, and gauges read from the node's status when scraped. Labels are
 * bounded: RPC method, status code, tier — never a peer or a digest.
 */
export class NodeMetrics {
  /** Prometheus registry holding every peercas metric. */
  readonly registry = new Registry()
  private readonly now: () => number
  private readonly rpcs: Counter<'method' | 'code'>
  private readonly rpcSeconds: Histogram<'method'>
  /** Per method path: its label and its series, made on its first call (method paths are the services' own, a bounded set). */
  private readonly rpcSeries = new Map<string, { method: string, seconds: { observe(value: number): void }, byCode: Map<number, { inc(): void }> }>()
  private readonly fetchSeconds: Histogram<'tier' | 'outcome'>
  private readonly tierBytes: Counter<'tier'>
  private readonly fetched = { peer: 0, central: 0 }
  private source: MetricsSource | undefined
  /** (time, cumulative counts) samples, oldest first, covering the last hour. */
  private readonly samples: Array<[number, TierCounts]> = []
  private sampler: NodeJS.Timeout | undefined
  private historySampler: NodeJS.Timeout | undefined
  private readonly points: HistoryPoint[] = []

  constructor (init: NodeMetricsInit = {}) {
    this.now = init.now ?? Date.now
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'peercas_' })
    this.rpcs = new Counter({ name: 'peercas_grpc_requests_total', help: 'gRPC calls served, by method and status code', labelNames: ['method', 'code'], registers })
    this.rpcSeconds = new Histogram({ name: 'peercas_grpc_request_duration_seconds', help: 'Time from the start of a gRPC call to its status, by method', labelNames: ['method'], buckets: RPC_SECONDS_BUCKETS, registers })
    this.fetchSeconds = new Histogram({ name: 'peercas_tier_fetch_duration_seconds', help: 'Time to fetch one missing blob from a tier, by tier and outcome (hit, miss, error)', labelNames: ['tier', 'outcome'], buckets: FETCH_SECONDS_BUCKETS, registers })
    this.tierBytes = new Counter({ name: 'peercas_tier_fetched_bytes_total', help: 'Bytes of blobs fetched from a tier into the local store', labelNames: ['tier'], registers })
    const self = this
    // Counters that mirror the node's own cumulative counts: each scrape adds what is new.
    const seen = { local: 0, peer: 0, central: 0, miss: 0, evictedBlobs: 0, evictedBytes: 0 }
    const advance = (counter: Counter<string>, key: keyof typeof seen, now: number, labels?: Record<string, string>): void => {
      if (now > seen[key]) {
        if (labels !== undefined) counter.inc(labels, now - seen[key]); else counter.inc(now - seen[key])
        seen[key] = now
      }
    }
    new Counter({
      name: 'peercas_blob_lookups_total',
      help: 'Blob reads by the tier that answered them (local, peer, central) or miss',
      labelNames: ['tier'],
      registers,
      collect () {
        const counts = self.source?.tierCounts()
        if (counts === undefined) return
        for (const [key, tier] of TIERS) advance(this, tier, counts[key], { tier })
      }
    })
    new Counter({
      name: 'peercas_evicted_blobs_total',
      help: 'Blobs evicted from the local store',
      registers,
      collect () {
        advance(this, 'evictedBlobs', self.source?.evicted().blobs ?? 0)
      }
    })
    new Counter({
      name: 'peercas_evicted_bytes_total',
      help: 'Bytes evicted from the local store',
      registers,
      collect () {
        advance(this, 'evictedBytes', self.source?.evicted().bytes ?? 0)
      }
    })
    // One status snapshot per scrape feeds every gauge (each gauge's collect awaits the same one).
    let snapshot: { at: number, status: Promise<GetStatusResponse | undefined> } | undefined
    const current = async (): Promise<GetStatusResponse | undefined> => {
      const t = this.now()
      if (snapshot === undefined || t - snapshot.at > SNAPSHOT_REUSE_MS) snapshot = { at: t, status: self.source?.status() ?? Promise.resolve(undefined) }
      return await snapshot.status
    }
    const gauge = (name: string, help: string, read: (s: GetStatusResponse) => number | undefined): void => {
      new Gauge({
        name,
        help,
        registers,
        async collect () {
          const s = await current()
          const value = s === undefined ? undefined : read(s)
          if (value !== undefined) this.set(value)
        }
      })
    }
    gauge('peercas_store_bytes', 'Bytes of blobs in the local store', (s) => Number(s.store?.totalBytes ?? 0))
    gauge('peercas_store_quota_bytes', 'Quota of the local store (--max-size)', (s) => Number(s.store?.quotaBytes ?? 0))
    gauge('peercas_store_blobs', 'Blobs in the local store', (s) => Number(s.store?.blobCount ?? 0))
    gauge('peercas_central_online', '1 when the central CAS answers, 0 when offline; absent without one', (s) => s.remote?.configured === true ? (s.remote.online === true ? 1 : 0) : undefined)
    gauge('peercas_upload_queue_items', 'Items waiting in the write-behind queue to the central CAS', (s) => Number(s.remote?.queueLength ?? 0))
    gauge('peercas_upload_queue_bytes', 'Bytes waiting in the write-behind queue to the central CAS', (s) => Number(s.remote?.queueBytes ?? 0))
    new Gauge({
      name: 'peercas_peers',
      help: 'Known peers by state (connected, disconnected, banned)',
      labelNames: ['state'],
      registers,
      async collect () {
        const s = await current()
        if (s === undefined) return
        const peers = s.peers ?? []
        const banned = peers.filter((p) => p.banned === true).length
        const connected = peers.filter((p) => p.connected === true && p.banned !== true).length
        this.set({ state: 'connected' }, connected)
        this.set({ state: 'banned' }, banned)
        this.set({ state: 'disconnected' }, peers.length - connected - banned)
      }
    })
  }

  /** Connects the metrics to the running node and starts sampling the hit window. */
  attach (source: MetricsSource): void {
    this.source = source
    this.sample()
    this.sampler = setInterval(() => { this.sample() }, HIT_SAMPLE_INTERVAL_MS)
    this.sampler.unref()
    this.samplePoint()
    this.historySampler = setInterval(() => { this.samplePoint() }, HISTORY_INTERVAL_MS)
    this.historySampler.unref()
  }

  /** Stops the samplers. */
  stop (): void {
    clearInterval(this.sampler)
    clearInterval(this.historySampler)
  }

  /** Cumulative counts every few seconds over the last minutes, oldest first (for the dashboard). */
  history (): HistoryPoint[] {
    return this.points.map((p) => ({ ...p, hits: { ...p.hits } }))
  }

  /** Lookups per tier over the last hour (or since start, when the node is younger). */
  hitsLastHour (): TierCounts {
    const current = this.source?.tierCounts() ?? { localHits: 0, peerHits: 0, remoteHits: 0, misses: 0 }
    const cutoff = this.now() - HIT_WINDOW_MS
    // The newest sample at least an hour old; before the first hour, the one taken at start.
    let from: TierCounts = this.samples[0]?.[1] ?? current
    for (const [t, counts] of this.samples) {
      if (t > cutoff) break
      from = counts
    }
    return {
      localHits: current.localHits - from.localHits,
      peerHits: current.peerHits - from.peerHits,
      remoteHits: current.remoteHits - from.remoteHits,
      misses: current.misses - from.misses
    }
  }

  /** Bytes fetched from peers and from the central CAS since start. */
  fetchedBytes (): { peer: number, central: number } {
    return { ...this.fetched }
  }

  /** A fetcher that does what `fetcher` does and records its latency, outcome and bytes. */
  instrumentFetcher (fetcher: BlobFetcher): BlobFetcher {
    const tier = fetcher.tier === 'peer' ? 'peer' : 'central'
    const wrapped: BlobFetcher = {
      tier: fetcher.tier,
      fetchInto: async (digest: Digest, signal: AbortSignal): Promise<boolean> => {
        const end = this.fetchSeconds.startTimer({ tier })
        try {
          const found = await fetcher.fetchInto(digest, signal)
          end({ outcome: found ? 'hit' : 'miss' })
          if (found) {
            this.fetched[tier] += digest.sizeBytes
            this.tierBytes.inc({ tier }, digest.sizeBytes)
          }
          return found
        } catch (error) {
          end({ outcome: 'error' })
          throw error
        }
      }
    }
    if (fetcher.findDurable !== undefined) wrapped.findDurable = fetcher.findDurable.bind(fetcher)
    return wrapped
  }

  /**
   * Records one gRPC call's method, final status code and duration — the one place RPC outcomes
   * are counted (the server's edge interceptor calls it as each call ends). The labelled series
   * of a method are looked up once: prom-client hashes a label set on every observation otherwise.
   */
  readonly recordCall = (methodPath: string, code: grpc.status, seconds: number): void => {
    let series = this.rpcSeries.get(methodPath)
    if (series === undefined) {
      // `/build.bazel.remote.execution.v2.ContentAddressableStorage/FindMissingBlobs` → `ContentAddressableStorage/FindMissingBlobs`
      const [, service = '', rpc = ''] = methodPath.split('/')
      const method = `${service.slice(service.lastIndexOf('.') + 1)}/${rpc}`
      series = { method, seconds: this.rpcSeconds.labels({ method }), byCode: new Map() }
      this.rpcSeries.set(methodPath, series)
    }
    series.seconds.observe(seconds)
    let calls = series.byCode.get(code)
    if (calls === undefined) {
      calls = this.rpcs.labels({ method: series.method, code: grpc.status[code] ?? String(code) })
      series.byCode.set(code, calls)
    }
    calls.inc()
  }

  private samplePoint (): void {
    const counts = this.source?.tierCounts()
    if (counts === undefined) return
    const t = this.now()
    this.points.push({ t, hits: { ...counts }, peerBytes: this.fetched.peer, centralBytes: this.fetched.central })
    while (this.points.length > 0 && this.points[0]!.t < t - HISTORY_WINDOW_MS) this.points.shift()
  }

  private sample (): void {
    const counts = this.source?.tierCounts()
    if (counts === undefined) return
    const t = this.now()
    this.samples.push([t, { ...counts }])
    // Keep one sample older than the window, so the window always has a start.
    while (this.samples.length > 2 && this.samples[1]![0] < t - HIT_WINDOW_MS) this.samples.shift()
  }
}

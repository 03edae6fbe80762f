import { homedir } from 'node:os'
import { join } from 'node:path'
import type { ConfigInput } from './schema.js'

/**
 * The embedded defaults: what `peercas serve` runs with and no config at all.
 * config/default.yaml documents the same values key by key (a test keeps them equal).
 */
export const DEFAULT_CONFIG: ConfigInput = {
  dataDir: '',
  socket: '',
  listen: [],
  environment: '',
  allowRefUpdates: true,
  endpoints: [],
  listenTokenFile: '',
  maxSize: '10GiB',
  store: {
    inlineThreshold: '16KiB',
    highWatermark: 0.95,
    lowWatermark: 0.85,
    fsync: false,
    scrubRate: '50MB'
  },
  log: { level: 'info', file: '' },
  p2p: {
    enabled: true,
    psk: '',
    open: false,
    listen: ['/ip4/0.0.0.0/tcp/0'],
    peers: [],
    mdns: true,
    maxStreamsPerPeer: 8,
    maxStreams: 64,
    maxServeRatePerPeer: '0',
    maxServeRate: '0',
    fetchTimeout: '30s',
    resummarizeInterval: '10m',
    announceInterval: '2s',
    parallelFetchThreshold: '16MiB',
    compression: 'zstd',
    maxSummaryPeers: 32
  },
  trust: { peers: [], results: 'listed', revoked: [] },
  metrics: { listen: '' },
  remote: {
    endpoint: '',
    instanceName: '',
    tlsCa: '',
    tlsCert: '',
    tlsKey: '',
    tokenFile: '',
    callTimeout: '60s',
    clientWait: '10s',
    upload: 'all',
    uploadConcurrency: 4,
    uploadRate: '0',
    findMissingCacheTtl: '60s'
  },
  assets: {
    originFetch: true,
    fetchTimeout: '5m',
    maxDownloadSize: '4GiB'
  }
}

/** `$XDG_CACHE_HOME/peercas`, or `~/.cache/peercas`. */
export function defaultDataDir (env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME != null && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache')
  return join(base, 'peercas')
}

import { z } from 'zod'
import { parseByteSize, parseDuration } from './sizes.js'

const byteSize = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const parsed = parseByteSize(value)
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a byte size (e.g. 10GiB, 512MB, 65536)` })
    return z.NEVER
  }
  return parsed
})

const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const parsed = parseDuration(value)
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a duration (e.g. 500ms, 30s, 5m)` })
    return z.NEVER
  }
  return parsed
})

const fraction = z.number().gt(0).lte(1)

/** The full configuration of a node, after defaults, file, env and flags are merged. */
export const configSchema = z.strictObject({
  /** Where blobs, the index, the socket and node.json live. */
  dataDir: z.string().min(1),
  /** Unix socket path; empty means `<dataDir>/cas.sock`. */
  socket: z.string(),
  /** Loopback TCP addresses to serve REAPI on, e.g. 127.0.0.1:8980. */
  listen: z.array(z.string()),
  /** Build environment of the default socket and `listen` addresses ('' = the default environment). */
  environment: z.string(),
  /**
   * More endpoints, each for one build environment: a unix socket or a TCP address, and
   * optionally the instance name every named result through it lives in.
   */
  endpoints: z.array(z.strictObject({
    socket: z.string().optional(),
    listen: z.string().optional(),
    environment: z.string(),
    instance: z.string().optional()
  })),
  /** Quota for blob bytes. */
  maxSize: byteSize,
  store: z.strictObject({
    inlineThreshold: byteSize,
    highWatermark: fraction,
    lowWatermark: fraction,
    fsync: z.boolean()
  }),
  log: z.strictObject({
    level: z.enum(['debug', 'info', 'warn', 'error']),
    /** Empty means stderr. */
    file: z.string()
  }),
  p2p: z.strictObject({
    enabled: z.boolean(),
    listen: z.array(z.string()),
    peers: z.array(z.string()),
    mdns: z.boolean(),
    maxStreamsPerPeer: z.number().int().positive(),
    maxStreams: z.number().int().positive(),
    maxServeRatePerPeer: byteSize,
    maxServeRate: byteSize,
    fetchTimeout: duration,
    resummarizeInterval: duration,
    announceInterval: duration,
    parallelFetchThreshold: byteSize,
    /** Fetch bodies between peers: zstd-compressed when a sample shows it pays, or never (`off`). */
    compression: z.enum(['zstd', 'off']),
    /** Peers whose availability summaries are kept in memory (the cheapest to fetch from). */
    maxSummaryPeers: z.number().int().positive()
  }),
  trust: z.strictObject({
    /** Peer IDs whose signed named results are accepted under `results: listed`. */
    peers: z.array(z.string()),
    /** Whose named results from peers are used: none, listed (signers in `peers`), team (any signer). */
    results: z.enum(['none', 'listed', 'team']),
    /** Peer IDs whose signed entries are refused and removed from the store. */
    revoked: z.array(z.string())
  }),
  remote: z.strictObject({
    /** grpc://host:port or grpcs://host:port; empty means no central CAS. */
    endpoint: z.string(),
    instanceName: z.string(),
    tlsCa: z.string(),
    tlsCert: z.string(),
    tlsKey: z.string(),
    tokenFile: z.string(),
    callTimeout: duration,
    clientWait: duration,
    upload: z.enum(['all', 'ac-only', 'none']),
    uploadConcurrency: z.number().int().positive(),
    uploadRate: byteSize,
    findMissingCacheTtl: duration
  }),
  assets: z.strictObject({
    /** Download Remote Asset requests from their origin when no tier has them. */
    originFetch: z.boolean(),
    /** Longest one origin download may take. */
    fetchTimeout: duration,
    /** Largest asset downloaded from an origin. */
    maxDownloadSize: byteSize
  })
}).superRefine((config, ctx) => {
  for (const [path, environment] of [[['environment'], config.environment], ...config.endpoints.map((e, i) => [['endpoints', i, 'environment'], e.environment] as const)] as const) {
    if (environment !== '' && !/^[A-Za-z0-9._:+=@-]{1,256}$/.test(environment)) {
      ctx.addIssue({ code: 'custom', path: [...path], message: 'an environment ID is 1-256 characters of A-Z a-z 0-9 . _ : + = @ -' })
    }
  }
  config.endpoints.forEach((endpoint, i) => {
    if ((endpoint.socket === undefined) === (endpoint.listen === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['endpoints', i], message: 'an endpoint has exactly one of socket or listen' })
    }
  })
  if (config.store.lowWatermark >= config.store.highWatermark) {
    ctx.addIssue({ code: 'custom', path: ['store', 'lowWatermark'], message: `must be below store.highWatermark (${config.store.highWatermark})` })
  }
})

/** Configuration as written by people (sizes and durations may be strings). */
export type ConfigInput = z.input<typeof configSchema>

/** Validated configuration with sizes in bytes and durations in milliseconds. */
export type PeercasConfig = z.output<typeof configSchema>

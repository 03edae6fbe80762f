import { z } from 'zod'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { parseByteSize, parseDuration } from './sizes.js'

const byteSize = z.union([z.number(), z.string()], { error: 'expected a byte size such as 10GiB, 512MB or 65536' }).transform((value, ctx) => {
  const parsed = parseByteSize(value)
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a byte size (e.g. 10GiB, 512MB, 65536)` })
    return z.NEVER
  }
  return parsed
})

const duration = z.union([z.number(), z.string()], { error: 'expected a duration such as 500ms, 30s or 5m' }).transform((value, ctx) => {
  const parsed = parseDuration(value)
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not a duration (e.g. 500ms, 30s, 5m)` })
    return z.NEVER
  }
  return parsed
})

const fraction = z.number().gt(0).lte(1)

/** A libp2p multiaddr, e.g. `/ip4/0.0.0.0/tcp/4001`. */
const listenMultiaddr = z.string().superRefine((value, ctx) => {
  const problem = multiaddrProblem(value, false)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
})

/** A peer's multiaddr ending in `/p2p/PEERID`, e.g. `/ip4/192.168.1.20/tcp/4001/p2p/12D3Koo…`. */
const peerMultiaddr = z.string().superRefine((value, ctx) => {
  const problem = multiaddrProblem(value, true)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
})

/** A libp2p peer ID, e.g. `12D3KooW…`. */
const peerId = z.string().superRefine((value, ctx) => {
  try {
    peerIdFromString(value)
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not a libp2p peer ID (the 12D3KooW… in `peercas status`)' })
  }
})

/**
 * Why `value` is not a usable multiaddr, or `undefined` if it is. With `needsPeerId`, it must
 * end in a valid `/p2p/PEERID` (a peer's address as `peercas status` prints it).
 */
export function multiaddrProblem (value: string, needsPeerId: boolean): string | undefined {
  let components: Array<{ name: string, value?: string }>
  try {
    components = multiaddr(value).getComponents()
  } catch {
    return needsPeerId
      ? 'is not a multiaddr; a peer looks like /ip4/192.168.1.20/tcp/4737/p2p/12D3KooW… (copy it from `peercas status` on that machine)'
      : 'is not a multiaddr such as /ip4/0.0.0.0/tcp/4737'
  }
  if (!needsPeerId) return undefined
  const id = components.find((c) => c.name === 'p2p')?.value
  if (id === undefined) return 'has no /p2p/PEERID at the end (copy the full address from `peercas status` on that machine)'
  try {
    peerIdFromString(id)
  } catch {
    return `ends in /p2p/${id}, which is not a libp2p peer ID (copy the full address from \`peercas status\` on that machine)`
  }
  return undefined
}

const baseSchema = z.strictObject({
  /** Where blobs, the index, the socket and node.json live. */
  dataDir: z.string().min(1),
  /** Unix socket path; empty means `<dataDir>/cas.sock`. */
  socket: z.string(),
  /**
   * Loopback TCP addresses to serve REAPI on: `127.0.0.1:8980`, or `{ address, tokenFile }` for a
   * listener whose callers must send `authorization: Bearer <token>`.
   */
  listen: z.array(z.union([z.string(), z.strictObject({ address: z.string(), tokenFile: z.string().optional() })])),
  /** Token file for every TCP listener that names none of its own; empty means no token. */
  listenTokenFile: z.string(),
  /** Build environment of the default socket and `listen` addresses ('' = the default environment). */
  environment: z.string(),
  /** Whether BuildStream clients may update refs through the default socket and `listen` addresses. */
  allowRefUpdates: z.boolean(),
  /**
   * More endpoints, each for one build environment: a unix socket or a TCP address, and
   * optionally the instance name every named result through it lives in.
   */
  endpoints: z.array(z.strictObject({
    socket: z.string().optional(),
    listen: z.string().optional(),
    environment: z.string(),
    instance: z.string().optional(),
    allowRefUpdates: z.boolean().optional()
  })),
  /** Quota for blob bytes. */
  maxSize: byteSize.refine((bytes) => bytes > 0, 'must be more than 0'),
  store: z.strictObject({
    inlineThreshold: byteSize,
    highWatermark: fraction,
    lowWatermark: fraction,
    fsync: z.boolean(),
    /** Bytes/s the background scrubber hashes blob files at; 0 turns it off. */
    scrubRate: byteSize
  }),
  log: z.strictObject({
    level: z.enum(['debug', 'info', 'warn', 'error']),
    /** Empty means stderr. */
    file: z.string()
  }),
  p2p: z.strictObject({
    enabled: z.boolean(),
    /** Team key file (a libp2p private network); empty means none, and then p2p is off unless `open`. */
    psk: z.string(),
    /** Without a team key, run an open network anyway (any host that reaches the port). */
    open: z.boolean(),
    listen: z.array(listenMultiaddr),
    peers: z.array(peerMultiaddr),
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
    peers: z.array(peerId),
    /** Whose named results from peers are used: none, listed (signers in `peers`), team (any signer). */
    results: z.enum(['none', 'listed', 'team']),
    /** Peer IDs whose signed entries are refused and removed from the store. */
    revoked: z.array(peerId)
  }),
  metrics: z.strictObject({
    /** `HOST:PORT` of the Prometheus `/metrics` and dashboard listener; empty means off. */
    listen: z.string().regex(/^$|^(\[[^\]]+\]|[^:[\]]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:9464')
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
})

/**
 * The schema of each key on its own, without the rules that relate keys: every layer (file,
 * environment, flags) is checked against it, so a wrong value in the file is reported even when
 * a flag overrides it.
 */
export const keySchema = baseSchema

/** The full configuration of a node, after defaults, file, env and flags are merged. */
export const configSchema = baseSchema.superRefine((config, ctx) => {
  if (config.trust.results === 'team' && config.p2p.psk === '') {
    ctx.addIssue({ code: 'custom', path: ['trust', 'results'], message: '"team" accepts results signed by any member of the team network, so it needs a team key (p2p.psk / --psk); use "listed" with trust.peers otherwise' })
  }
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

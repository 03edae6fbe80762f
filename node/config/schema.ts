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
  /** Loopback TCP addresses to serve REAPI on, e.g. 127.0.0.1:8980. */
  listen: z.array(z.string()),
  /** Quota for blob bytes. */
  maxSize: byteSize.refine((bytes) => bytes > 0, 'must be more than 0'),
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
    parallelFetchThreshold: byteSize
  }),
  trust: z.strictObject({
    /** Peer IDs whose action-cache answers are accepted. */
    peers: z.array(peerId)
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
  if (config.store.lowWatermark >= config.store.highWatermark) {
    ctx.addIssue({ code: 'custom', path: ['store', 'lowWatermark'], message: `must be below store.highWatermark (${config.store.highWatermark})` })
  }
})

/** Configuration as written by people (sizes and durations may be strings). */
export type ConfigInput = z.input<typeof configSchema>

/** Validated configuration with sizes in bytes and durations in milliseconds. */
export type PeercasConfig = z.output<typeof configSchema>

import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { mdns } from '@libp2p/mdns'
import { preSharedKey } from '@libp2p/pnet'
import type { ConnectionGater, ConnectionProtector, MultiaddrConnection, PeerDiscovery, PeerId, PrivateKey, Transport, Upgrader } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../log/logger.js'
import { DIAL_TIMEOUT_MS, REDIAL_JITTER, REDIAL_MAX_MS, REDIAL_MIN_MS } from './constants.js'
import { Backoff, sleep } from '../limits/index.js'

/** Options of {@link createHost}. */
export interface HostInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on. */
  listen: string[]
  /** Discover peers on the LAN with mDNS. */
  mdns: boolean
  /** Static / bootstrap peers, redialled with backoff when they drop. */
  staticPeers: string[]
  /** The node's shutdown signal: ends dials and redial loops. @default never */
  shutdown?: AbortSignal
  /**
   * The team key (a libp2p private network, `@libp2p/pnet`): only hosts holding the same key
   * can complete a connection. Without it the network is open to any host that reaches the port.
   */
  teamKey?: Uint8Array
  /** When given, connections to and from any other peer ID are refused (`trust.peers`). */
  allowedPeers?: string[]
  logger: Logger
}

/** The libp2p node plus our dialling policy. Register protocol handlers before `start()`. */
export interface Host {
  readonly libp2p: Libp2p
  /** Starts listening, discovery and dialling of static peers. */
  start(): Promise<void>
  /** How dialling each static peer goes (read-only, for `peercas status`). */
  staticPeers(): StaticPeerState[]
  stop(): Promise<void>
}

/** One static peer as the redial loop sees it. */
export interface StaticPeerState {
  /** The multiaddr as configured. */
  address: string
  /** The peer ID in it. */
  peerId: string
  connected: boolean
  /** Why the last dial failed ('' after a success). */
  lastError: string
  /** Failed dials since the last success. */
  failedDials: number
  /** When the next dial is due (epoch ms), 0 when connected. */
  nextDialMs: number
}

/**
 * Starts libp2p with TCP, Noise, Yamux, identify and ping (and mDNS when asked), dials
 * discovered peers, and keeps static peers connected, redialling with exponential backoff
 * ({@link REDIAL_MIN_MS} → {@link REDIAL_MAX_MS}). With a team key, every connection is wrapped
 * in the private network first; with allowed peers, a connection gater refuses all others.
 * Refused connections are logged with the reason.
 */
export async function createHost (init: HostInit): Promise<Host> {
  const log = init.logger
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  if (init.mdns) peerDiscovery.push(mdns())
  const libp2p = await createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [loggedTcp(init.teamKey !== undefined, log)],
    ...(init.teamKey !== undefined ? { connectionProtector: cappedPreSharedKey(init.teamKey) } : {}),
    connectionEncrypters: [noise()],
    ...(init.allowedPeers !== undefined ? { connectionGater: allowlistGater(init.allowedPeers, log) } : {}),
    streamMuxers: [yamux()],
    peerDiscovery,
    services: { identify: identify(), ping: ping() },
    // A link saturated by blob transfers delays libp2p's keep-alive pings by seconds (measured on
    // a shaped 1 Gbit/s LAN with a herd of fetchers); aborting the connection then kills every
    // transfer on it. Our protocols have their own stall timeouts (p2p.fetchTimeout).
    connectionMonitor: { abortConnectionOnPingFailure: false },
    // Started by Host.start(), once our protocol handlers are registered: a peer that connects
    // first must not find them missing.
    start: false
  })
  const controller = new AbortController()
  init.shutdown?.addEventListener('abort', () => { controller.abort() }, { once: true })
  const stopped = controller.signal

  libp2p.addEventListener('peer:discovery', (event) => {
    const peer = event.detail.id
    if (peer.equals(libp2p.peerId) || libp2p.getConnections(peer).length > 0) return
    log.info('discovered peer; dialling', { peer: peer.toString() })
    libp2p.dial(peer, { signal: AbortSignal.any([stopped, AbortSignal.timeout(DIAL_TIMEOUT_MS)]) }).catch((error) => {
      if ((error as Error).name === 'EncryptionFailedError') log.info(`could not connect to a discovered peer: ${refusalReason(error, init.teamKey !== undefined)}`, { peer: peer.toString(), error })
      else log.debug('dialling a discovered peer failed', { peer: peer.toString(), error })
    })
  })

  let loops: Array<Promise<void>> = []
  const states = init.staticPeers.map((address): StaticPeerState => ({ address, peerId: address.split('/p2p/').pop() ?? '', connected: false, lastError: '', failedDials: 0, nextDialMs: 0 }))

  return {
    libp2p,
    async start () {
      await libp2p.start()
      loops = states.map(async (state) => { await keepConnected(libp2p, state, init.teamKey !== undefined, log, stopped) })
    },
    staticPeers: () => states.map((state) => ({ ...state, connected: state.connected && libp2p.getConnections().some((c) => c.remotePeer.toString() === state.peerId) })),
    async stop () {
      controller.abort()
      await Promise.allSettled(loops)
      await libp2p.stop()
    }
  }
}

/** Largest piece of a connection's outgoing bytes the team-key layer encrypts in one call. */
export const PNET_MAX_SEND_BYTES = 256 * 1024

/**
 * `@libp2p/pnet`, each send capped at {@link PNET_MAX_SEND_BYTES}. pnet encrypts a send in one
 * call to xsalsa20, whose WebAssembly memory grows to the size of that send, is never given back,
 * and cannot pass 64 MiB; while the socket is full, sends queue up and then go out as one, so a
 * 200 MB transfer aborted the connection (`WebAssembly.Memory.grow(): Maximum memory size
 * exceeded`). `maxMessageSize` is the message stream's own cap on what one send may carry.
 */
export function cappedPreSharedKey (psk: Uint8Array): () => ConnectionProtector {
  const factory = preSharedKey({ psk })
  return () => {
    const inner = factory()
    return {
      async protect (connection, options) {
        const stream = await inner.protect(connection, options)
        if ('maxMessageSize' in stream) (stream as { maxMessageSize?: number }).maxMessageSize = PNET_MAX_SEND_BYTES
        return stream
      }
    }
  }
}

/**
 * Why an upgrade failed, in words for the log. Behind a team key, a host without the same key
 * sends bytes that decrypt to garbage, so the protocol negotiation or the Noise handshake fails.
 */
function refusalReason (error: unknown, teamKey: boolean): string {
  const name = (error as Error | undefined)?.name
  if (name === 'EncryptionFailedError') {
    return teamKey
      ? 'the handshake failed: the other host does not hold our team key (p2p.psk), or is not a peercas node'
      : 'the handshake failed: the other host is not a peercas node, or uses a team key (p2p.psk) while this node has none'
  }
  if (name === 'AbortError' || name === 'TimeoutError') return 'the other host did not complete the handshake in time'
  return 'the connection upgrade failed'
}

/**
 * TCP, logging every inbound connection the upgrade refuses and why (libp2p itself only
 * traces it). Refusals by the connection gater are logged by the gater.
 */
function loggedTcp (teamKey: boolean, log: Logger): (components: any) => Transport {
  const factory = tcp()
  return (components) => {
    const transport = factory(components)
    const createListener = transport.createListener.bind(transport)
    transport.createListener = (options) => createListener({ ...options, upgrader: loggedUpgrader(options.upgrader, teamKey, log) })
    return transport
  }
}

function loggedUpgrader (upgrader: Upgrader, teamKey: boolean, log: Logger): Upgrader {
  return new Proxy(upgrader, {
    get (target, property) {
      if (property === 'upgradeInbound') {
        return async (connection: MultiaddrConnection, options: any) => {
          try {
            await target.upgradeInbound(connection, options)
          } catch (error) {
            if ((error as Error).name !== 'ConnectionInterceptedError') {
              log.warn(`refused an inbound connection: ${refusalReason(error, teamKey)}`, { address: connection.remoteAddr.toString(), error })
            }
            throw error
          }
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

/** Refuses connections with peers whose IDs are not listed; logs each refusal. */
function allowlistGater (peers: string[], log: Logger): ConnectionGater {
  const allowed = new Set(peers)
  const denied = (peer: PeerId): boolean => !allowed.has(peer.toString())
  return {
    denyDialPeer: (peer) => {
      if (!denied(peer)) return false
      log.debug('not dialling a peer that is not in trust.peers', { peer: peer.toString() })
      return true
    },
    denyInboundEncryptedConnection: (peer, connection) => {
      if (!denied(peer)) return false
      log.warn('refused an inbound connection: the peer is not in trust.peers', { peer: peer.toString(), address: connection.remoteAddr.toString() })
      return true
    },
    denyOutboundEncryptedConnection: (peer, connection) => {
      if (!denied(peer)) return false
      log.warn('refused an outbound connection: the peer is not in trust.peers', { peer: peer.toString(), address: connection.remoteAddr.toString() })
      return true
    }
  }
}

/** The peer ID in a multiaddr's /p2p/ component, if any. */
export function peerIdOf (address: Multiaddr): string | undefined {
  const components = address.getComponents()
  for (let i = components.length - 1; i >= 0; i--) {
    const component = components[i]!
    if (component.name === 'p2p') return component.value
  }
  return undefined
}

async function keepConnected (libp2p: Libp2p, state: StaticPeerState, teamKey: boolean, log: Logger, stopped: AbortSignal): Promise<void> {
  const address = state.address
  let target: Multiaddr
  try {
    target = multiaddr(address)
  } catch (error) {
    log.error('ignoring a static peer that is not a multiaddr', { address, error })
    return
  }
  const backoff = new Backoff({ baseMs: REDIAL_MIN_MS, maxMs: REDIAL_MAX_MS, jitter: REDIAL_JITTER })
  let peer: PeerId | undefined
  while (!stopped.aborted) {
    try {
      if (peer === undefined || libp2p.getConnections(peer).length === 0) {
        const connection = await libp2p.dial(target, { signal: AbortSignal.any([stopped, AbortSignal.timeout(DIAL_TIMEOUT_MS)]) })
        peer = connection.remotePeer
        log.info('connected to static peer', { address, peer: peer.toString() })
      }
      Object.assign(state, { connected: true, lastError: '', failedDials: 0, nextDialMs: 0 })
      backoff.reset()
      await disconnected(libp2p, peer, stopped)
      state.connected = false
      if (!stopped.aborted) log.info('static peer disconnected; redialling', { address })
    } catch (error) {
      if (stopped.aborted) return
      const retryMs = backoff.next()
      // The first failure, and each new reason, at warn: a wrong peer ID, a closed port or a
      // missing team key must be visible without --log-level debug; the same reason again only at debug.
      const reason = dialFailureReason(error, teamKey)
      if (reason !== state.lastError) log.warn('cannot reach static peer; retrying', { address, reason, retryMs })
      else log.debug('dialling a static peer failed; retrying', { address, retryMs, error })
      Object.assign(state, { connected: false, lastError: reason, failedDials: state.failedDials + 1, nextDialMs: Date.now() + retryMs })
      await sleep(retryMs, stopped).catch(() => {})
    }
  }
}

function dialFailureReason (error: unknown, teamKey: boolean): string {
  const e = error as Error & { errors?: unknown[] }
  const inner = Array.isArray(e.errors) && e.errors.length > 0 ? e.errors[0] as Error : e
  if (inner?.name === 'UnexpectedPeerError' || /identity key|unexpected peer/i.test(inner?.message ?? '')) return 'the peer at this address has a different peer ID (check the /p2p/ part)'
  if (e.name === 'EncryptionFailedError' || inner?.name === 'EncryptionFailedError') return refusalReason(inner ?? e, teamKey)
  if (/ECONNREFUSED/.test(inner?.message ?? '')) return 'connection refused: nothing listens on that address and port (is peercas running there, and is the port right?)'
  return `${inner?.message ?? String(error)}`.split('\n')[0]!
}

async function disconnected (libp2p: Libp2p, peer: PeerId, stopped: AbortSignal): Promise<void> {
  if (libp2p.getConnections(peer).length === 0) return
  await new Promise<void>((resolve) => {
    const onDisconnect = (event: CustomEvent<PeerId>): void => {
      if (event.detail.equals(peer)) done()
    }
    const done = (): void => {
      libp2p.removeEventListener('peer:disconnect', onDisconnect)
      stopped.removeEventListener('abort', done)
      resolve()
    }
    libp2p.addEventListener('peer:disconnect', onDisconnect)
    stopped.addEventListener('abort', done, { once: true })
  })
}

import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { mdns } from '@libp2p/mdns'
import type { PeerDiscovery, PeerId, PrivateKey } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../log/logger.js'
import { REDIAL_MAX_MS, REDIAL_MIN_MS } from './constants.js'
import { sleep } from '../limits/index.js'

/** Options of {@link createHost}. */
export interface HostInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on. */
  listen: string[]
  /** Discover peers on the LAN with mDNS. */
  mdns: boolean
  /** Static / bootstrap peers, redialled with backoff when they drop. */
  staticPeers: string[]
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
 * ({@link REDIAL_MIN_MS} → {@link REDIAL_MAX_MS}).
 */
export async function createHost (init: HostInit): Promise<Host> {
  const log = init.logger
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  if (init.mdns) peerDiscovery.push(mdns())
  const libp2p = await createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    services: { identify: identify(), ping: ping() },
    // Started by Host.start(), once our protocol handlers are registered: a peer that connects
    // first must not find them missing.
    start: false
  })
  const controller = new AbortController()
  const stopped = controller.signal

  libp2p.addEventListener('peer:discovery', (event) => {
    const peer = event.detail.id
    if (peer.equals(libp2p.peerId) || libp2p.getConnections(peer).length > 0) return
    log.info('discovered peer; dialling', { peer: peer.toString() })
    libp2p.dial(peer, { signal: AbortSignal.any([stopped, AbortSignal.timeout(10_000)]) }).catch((error) => {
      log.debug('dialling a discovered peer failed', { peer: peer.toString(), error })
    })
  })

  let loops: Array<Promise<void>> = []
  const states = init.staticPeers.map((address): StaticPeerState => ({ address, peerId: address.split('/p2p/').pop() ?? '', connected: false, lastError: '', failedDials: 0, nextDialMs: 0 }))

  return {
    libp2p,
    async start () {
      await libp2p.start()
      loops = states.map(async (state) => { await keepConnected(libp2p, state, log, stopped) })
    },
    staticPeers: () => states.map((state) => ({ ...state, connected: state.connected && libp2p.getConnections().some((c) => c.remotePeer.toString() === state.peerId) })),
    async stop () {
      controller.abort()
      await Promise.allSettled(loops)
      await libp2p.stop()
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

async function keepConnected (libp2p: Libp2p, state: StaticPeerState, log: Logger, stopped: AbortSignal): Promise<void> {
  const address = state.address
  let target: Multiaddr
  try {
    target = multiaddr(address)
  } catch (error) {
    log.error('ignoring a static peer that is not a multiaddr', { address, error })
    return
  }
  let delay = REDIAL_MIN_MS
  let peer: PeerId | undefined
  while (!stopped.aborted) {
    try {
      if (peer === undefined || libp2p.getConnections(peer).length === 0) {
        const connection = await libp2p.dial(target, { signal: AbortSignal.any([stopped, AbortSignal.timeout(10_000)]) })
        peer = connection.remotePeer
        log.info('connected to static peer', { address, peer: peer.toString() })
      }
      Object.assign(state, { connected: true, lastError: '', failedDials: 0, nextDialMs: 0 })
      delay = REDIAL_MIN_MS
      await disconnected(libp2p, peer, stopped)
      state.connected = false
      if (!stopped.aborted) log.info('static peer disconnected; redialling', { address })
    } catch (error) {
      if (stopped.aborted) return
      // The first failure, and each new reason, at warn: a wrong peer ID or a closed port must be
      // visible without --log-level debug; the same reason again only at debug.
      const reason = dialFailureReason(error)
      if (reason !== state.lastError) log.warn('cannot reach static peer; retrying', { address, reason, retryMs: delay })
      else log.debug('dialling a static peer failed; retrying', { address, retryMs: delay, error })
      Object.assign(state, { connected: false, lastError: reason, failedDials: state.failedDials + 1, nextDialMs: Date.now() + delay })
      await sleep(delay * (0.75 + Math.random() / 2), stopped).catch(() => {})
      delay = Math.min(REDIAL_MAX_MS, delay * 2)
    }
  }
}

/** One line on why a dial failed, without libp2p's nesting. */
function dialFailureReason (error: unknown): string {
  const e = error as Error & { errors?: unknown[] }
  const inner = Array.isArray(e.errors) && e.errors.length > 0 ? e.errors[0] as Error : e
  if (inner?.name === 'UnexpectedPeerError' || /identity key|unexpected peer/i.test(inner?.message ?? '')) return 'the peer at this address has a different peer ID (check the /p2p/ part)'
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

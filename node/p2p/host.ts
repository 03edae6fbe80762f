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
  logger: Logger
}

/** The libp2p node plus our dialling policy. Register protocol handlers before `start()`. */
export interface Host {
  readonly libp2p: Libp2p
  /** Starts listening, discovery and dialling of static peers. */
  start(): Promise<void>
  stop(): Promise<void>
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
      log.debug('dialling a discovered peer failed', { peer: peer.toString(), error })
    })
  })

  let loops: Array<Promise<void>> = []

  return {
    libp2p,
    async start () {
      await libp2p.start()
      loops = init.staticPeers.map(async (address) => { await keepConnected(libp2p, address, log, stopped) })
    },
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

async function keepConnected (libp2p: Libp2p, address: string, log: Logger, stopped: AbortSignal): Promise<void> {
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
      backoff.reset()
      await disconnected(libp2p, peer, stopped)
      if (!stopped.aborted) log.info('static peer disconnected; redialling', { address })
    } catch (error) {
      if (stopped.aborted) return
      const retryMs = backoff.next()
      log.debug('dialling a static peer failed; retrying', { address, retryMs, error })
      await sleep(retryMs, stopped).catch(() => {})
    }
  }
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

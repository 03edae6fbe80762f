// The peer-fetch baseline: a bare libp2p host (TCP + Noise + Yamux, the transport stack peercas
// uses) in its own process. As sender it streams bytes from memory in 256 KiB chunks, honouring
// backpressure; as receiver it counts bytes and drops them. No store, no hashing, no framing:
// whatever peercas does beyond this costs throughput, which is what peer_fetch_vs_libp2p measures.
import { createLibp2p, type Libp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { cappedPreSharedKey } from '../../node/p2p/host.js'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { SEND_CHUNK_BYTES } from '../../node/p2p/constants.js'
import { serveWorker } from '../lib/worker.js'
import { randomBuffer } from '../lib/random.js'

const PROTOCOL = '/peercas-bench/raw/1.0.0'

let host: Libp2p | undefined
let memory = Buffer.alloc(0)

/** Starts the host on `listen`, behind the team key `psk` when given (as peercas nodes run: node/p2p/host.ts). */
async function startHost (listen = '/ip4/127.0.0.1/tcp/0', psk?: Uint8Array): Promise<Libp2p> {
  // No discovery at all (no mDNS): only the address we are given is dialled.
  host ??= await createLibp2p({
    addresses: { listen: [listen] },
    transports: [tcp()],
    ...(psk !== undefined ? { connectionProtector: cappedPreSharedKey(psk) } : {}),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  return host
}

/** Sends `bytes` bytes of `memory` on a stream; the requested size is an 8-byte header. */
async function serve (stream: Stream): Promise<void> {
  const header = await new Promise<number>((resolve) => {
    stream.addEventListener('message', (event) => { resolve(Number(Buffer.from(event.data.subarray(0, 8)).readBigUInt64BE())) }, { once: true })
  })
  for (let at = 0; at < header; at += SEND_CHUNK_BYTES) {
    const end = Math.min(header, at + SEND_CHUNK_BYTES)
    if (!stream.send(memory.subarray(at % memory.byteLength, (at % memory.byteLength) + (end - at)))) await stream.onDrain()
  }
  await stream.close()
}

serveWorker({
  /** Starts a sender holding `prefill` random bytes (listening on `listen`, behind team key `psk` if given); returns its multiaddr. */
  async listen ({ prefill, psk, listen }: { prefill: number, psk?: number[], listen?: string }) {
    memory = randomBuffer(prefill)
    const libp2p = await startHost(listen, psk !== undefined ? Uint8Array.from(psk) : undefined)
    await libp2p.handle(PROTOCOL, (stream) => { void serve(stream).catch((error: Error) => { stream.abort(error) }) })
    return { address: libp2p.getMultiaddrs()[0]!.toString() }
  },

  /**
   * Receives `bytes` bytes from the sender at `address`. The connection is dialled before the
   * clock starts (a peer fetch also runs on an open connection); the clock covers opening the
   * stream, the request and every byte.
   */
  async fetch ({ address, bytes, psk, listen }: { address: string, bytes: number, psk?: number[], listen?: string }) {
    const libp2p = await startHost(listen, psk !== undefined ? Uint8Array.from(psk) : undefined)
    await libp2p.dial(multiaddr(address))
    const started = performance.now()
    const stream = await libp2p.dialProtocol(multiaddr(address), PROTOCOL)
    let received = 0
    const done = new Promise<void>((resolve, reject) => {
      stream.addEventListener('message', (event) => { received += event.data.byteLength })
      stream.addEventListener('remoteCloseWrite', () => { resolve() })
      stream.addEventListener('close', (event) => { if (event.error != null) reject(event.error); else resolve() })
    })
    const request = Buffer.alloc(8)
    request.writeBigUInt64BE(BigInt(bytes))
    stream.send(request)
    await done
    const ms = performance.now() - started
    await stream.close().catch(() => {})
    if (received !== bytes) throw new Error(`received ${received} of ${bytes} bytes`)
    return { ms, bytes }
  },

  async close () {
    await host?.stop()
    host = undefined
    return {}
  }
})

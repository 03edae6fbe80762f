import type { Stream } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createHost, type Host } from '../../node/p2p/host.js'
import { MAX_CONTROL_FRAME_BYTES, NAMED_RESULT_PROTOCOL } from '../../node/p2p/constants.js'
import { StreamReader, sendFrame } from '../../node/p2p/framing.js'
import { messages, type NamedResultRequestMessage } from '../../node/p2p/messages.js'
import { silentLogger } from '../../node/log/logger.js'
import type { ResultSignature } from '../../node/trust/signatures.js'
import { TEST_TEAM_KEY } from './team-key.js'

/** What a {@link RawNameServer} answers to one request: a value and the signature fields to send with it. */
export interface RawAnswer { value: Uint8Array, signature?: ResultSignature }

/**
 * A bare libp2p host that answers /peercas/ac/2.0.0 lookups with whatever a test says — forged,
 * tampered, replayed or honestly signed entries — and records the requests it got.
 */
export interface RawNameServer {
  readonly host: Host
  readonly peerId: string
  readonly addresses: string[]
  /** Every request, in order. */
  readonly requests: NamedResultRequestMessage[]
  stop(): Promise<void>
}

/** Starts a {@link RawNameServer} on 127.0.0.1 (mDNS off); `answer` returns `undefined` for "not found". */
export async function startRawNameServer (answer: (request: NamedResultRequestMessage) => RawAnswer | undefined): Promise<RawNameServer> {
  const host = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, staticPeers: [], teamKey: TEST_TEAM_KEY, logger: silentLogger })
  const requests: NamedResultRequestMessage[] = []
  await host.libp2p.handle(NAMED_RESULT_PROTOCOL, (stream: Stream) => {
    void (async () => {
      const reader = new StreamReader(stream, { stallTimeoutMs: 10_000 })
      for (;;) {
        const bytes = await reader.readFrame(MAX_CONTROL_FRAME_BYTES)
        if (bytes === undefined) { await stream.close(); return }
        const request = messages.namedResultRequest.decode(bytes)
        requests.push(request)
        const found = answer(request)
        await sendFrame(stream, messages.namedResultResponse.encode(found === undefined
          ? { found: false }
          : { found: true, value: found.value, signer: found.signature?.signer ?? '', signedAtMs: found.signature?.signedAtMs ?? 0, signature: found.signature?.signature ?? new Uint8Array(0) }))
      }
    })().catch(() => { stream.abort(new Error('raw name server stream failed')) })
  })
  await host.start()
  return {
    host,
    peerId: host.libp2p.peerId.toString(),
    addresses: host.libp2p.getMultiaddrs().map((a) => a.toString()),
    requests,
    async stop () { await host.stop() }
  }
}

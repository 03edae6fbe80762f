import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import type { Stream } from '@libp2p/interface'
import { digestOf } from '../../node/store/digest.js'
import { createHost, type Host } from '../../node/p2p/host.js'
import { AVAILABILITY_PROTOCOL, FETCH_PROTOCOL, MAX_NAME_KEY_CHARS, NAMED_RESULT_PROTOCOL } from '../../node/p2p/constants.js'
import { StreamReader, sendFrame } from '../../node/p2p/framing.js'
import { actionResultName } from '../../node/domain/names.js'
import { reapi } from '../../node/reapi/protos.js'
import { frame } from '../../node/p2p/framing.js'
import { messages } from '../../node/p2p/messages.js'
import { toBlobRef } from '../../node/p2p/cid.js'
import { silentLogger } from '../../node/log/logger.js'
import { readBlob, startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import type { TestNode } from '../helpers/node.js'
import type { P2pService } from '../../node/p2p/index.js'
import { TEST_TEAM_KEY } from '../helpers/team-key.js'

/** Everything the remote sends until it closes or resets the stream. */
async function drain (stream: Stream): Promise<{ bytes: number, error?: Error }> {
  let bytes = 0
  try {
    for await (const chunk of stream) bytes += chunk.byteLength
    return { bytes }
  } catch (error) {
    return { bytes, error: error as Error }
  }
}

/**
 * Every chunk the remote sends until it ends the stream. Call it before closing our side: libp2p's
 * stream iterator never ends if it starts after the stream closed with data still unread.
 */
async function readAll (stream: Stream): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const c of stream) chunks.push(c.subarray())
  return Buffer.concat(chunks)
}

describe('bad input from a peer', () => {
  let node: TestNode & { p2p: P2pService }
  let attacker: Host
  const blob = randomBytes(50_000)
  const digest = digestOf(blob)

  beforeAll(async () => {
    node = await startP2pTestNode({ p2p: { fetchTimeout: '500ms', maxStreamsPerPeer: 4 } })
    await node.store.put(digest, blob)
    attacker = await createHost({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, staticPeers: [], teamKey: TEST_TEAM_KEY, logger: silentLogger })
    await attacker.start()
    await attacker.libp2p.dial(multiaddr(node.p2p.addresses[0]!))
  })
  afterAll(async () => {
    await attacker?.stop()
    await node?.stop()
  })

  const open = async (protocol = FETCH_PROTOCOL): Promise<Stream> => await attacker.libp2p.dialProtocol(multiaddr(node.p2p.addresses[0]!), protocol)

  /** The node still serves its local clients and other peers after each attack. */
  const stillServes = async (): Promise<void> => {
    expect((await readBlob(node, digest)).equals(blob)).toBe(true)
  }

  it('resets a stream whose frame announces more than the frame cap, without buffering it', async () => {
    const stream = await open()
    // A varint for 100 MiB, then a few bytes: the cap check must fire on the header alone.
    stream.send(Uint8Array.from([0x80, 0x80, 0x80, 0x32, 1, 2, 3]))
    const result = await drain(stream)
    expect(result.bytes).toBe(0)
    await stillServes()
  })

  it('resets a stream whose request does not decode', async () => {
    const stream = await open()
    stream.send(frame(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])))
    const result = drain(stream)
    await stream.close().catch(() => {})
    expect((await result).bytes).toBe(0)
    await stillServes()
  })

  it('answers INVALID to a malformed CID and to a range past the end', async () => {
    for (const want of [
      { blob: { cid: Uint8Array.from([1, 2, 3]), size: 1 }, offset: 0, length: 0 },
      { blob: toBlobRef(digest), offset: blob.byteLength + 1, length: 0 }
    ]) {
      const stream = await open()
      stream.send(frame(messages.fetchRequest.encode({ wants: [want] })))
      const answer = readAll(stream)
      await stream.close()
      const header = messages.blobHeader.decode((await answer).subarray(1))
      expect(header.status).toBe('INVALID')
    }
    await stillServes()
  })

  it('refuses an unknown protocol version during negotiation', async () => {
    await expect(open('/peercas/fetch/9.0.0')).rejects.toThrow()
    await stillServes()
  })

  it('cuts off a peer that opens a stream and stalls', async () => {
    const stream = await open()
    const started = Date.now()
    const result = await drain(stream)
    expect(Date.now() - started).toBeLessThan(5000)
    expect(result.bytes).toBe(0)
    await stillServes()
  })

  it('answers BUSY beyond the per-peer stream cap and keeps serving', async () => {
    // Hold four streams open (no request yet: each occupies a slot until the stall timeout)…
    const held = await Promise.all(Array.from({ length: 4 }, async () => await open()))
    // …so the next ones must be refused at once.
    const answers = await Promise.all(Array.from({ length: 3 }, async () => {
      const s = await open()
      const answer = readAll(s)
      await s.close()
      return messages.blobHeader.decode((await answer).subarray(1)).status
    }))
    expect(answers).toEqual(['BUSY', 'BUSY', 'BUSY'])
    for (const s of held) s.abort(new Error('done'))
    await stillServes()
  })

  it('drops an availability stream with an unknown summary version or an oversized summary', async () => {
    for (const start of [
      { version: 99, generation: 1, bits: 64, hashes: 3, blobCount: 1 },
      { version: 1, generation: 1, bits: 2 ** 40, hashes: 3, blobCount: 1 }
    ]) {
      const stream = await open(AVAILABILITY_PROTOCOL)
      stream.send(frame(messages.availability.encode({ summaryStart: start })))
      const result = await drain(stream)
      expect(result.bytes).toBe(0)
    }
    expect(node.p2p.peers().find((p) => p.peerId === attacker.libp2p.peerId.toString())?.blobsAdvertised ?? 0).toBe(0)
    await stillServes()
  })

  it('bounds a flood of announcements to the summary size', async () => {
    const stream = await open(AVAILABILITY_PROTOCOL)
    stream.send(frame(messages.availability.encode({ summaryStart: { version: 1, generation: 1, bits: 64 * 8, hashes: 3, blobCount: 0 } })))
    stream.send(frame(messages.availability.encode({ summaryPart: { generation: 1, offset: 0, data: new Uint8Array(64) } })))
    for (let i = 0; i < 6; i++) {
      const added = Array.from({ length: 8192 }, () => toBlobRef(digestOf(randomBytes(8))))
      if (!stream.send(frame(messages.availability.encode({ delta: { generation: 1, added } })))) await stream.onDrain()
    }
    const peer = attacker.libp2p.peerId.toString()
    await waitFor(() => (node.p2p.peers().find((p) => p.peerId === peer)?.blobsAdvertised ?? 0) === 6 * 8192, 'the node to take the announcements')
    // 49 152 announcements cost this node 64 bytes of summary; a delta over the cap ends the stream.
    const tooBig = Array.from({ length: 8193 }, () => toBlobRef(digest))
    stream.send(frame(messages.availability.encode({ delta: { generation: 1, added: tooBig } })))
    expect((await drain(stream)).error).toBeDefined()
    await stillServes()
  })

  it('answers "not found" to a lookup of a kind it does not know, and keeps the stream for the next lookup', async () => {
    const action = digestOf(randomBytes(64))
    const name = actionResultName('', action)
    await node.store.names.put(name, reapi.ActionResult.serialize({ exitCode: 0 }))
    const stream = await open(NAMED_RESULT_PROTOCOL)
    const reader = new StreamReader(stream, { stallTimeoutMs: 5000 })
    await sendFrame(stream, messages.namedResultRequest.encode({ kind: 'kind-from-the-future', instanceName: '', key: name.key }))
    expect(messages.namedResultResponse.decode((await reader.readFrame(1 << 20))!).found).toBe(false)
    await sendFrame(stream, messages.namedResultRequest.encode({ kind: name.kind, instanceName: '', key: name.key }))
    const answer = messages.namedResultResponse.decode((await reader.readFrame(1 << 20))!)
    expect(answer.found).toBe(true)
    expect(reapi.ActionResult.deserialize(Buffer.from(answer.value)).exitCode).toBe(0)
    await stream.close()
    await stillServes()
  })

  it('resets a lookup stream whose key is longer than the cap', async () => {
    const stream = await open(NAMED_RESULT_PROTOCOL)
    const done = drain(stream)
    await sendFrame(stream, messages.namedResultRequest.encode({ kind: 'action-result', instanceName: '', key: 'k'.repeat(MAX_NAME_KEY_CHARS + 1) }))
    const { bytes, error } = await done
    expect(bytes).toBe(0)
    expect(error).toBeDefined()
    await stillServes()
  })
})

// zstd on fetch bodies: negotiated per request, used only when a sample shows it pays, every
// body verified after decoding; old peers on either side still get plain bodies.
import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { zstdCompressSync } from 'node:zlib'
import { unary } from '../../node/reapi/clients.js'
import { digestOf } from '../../node/store/digest.js'
import { ZSTD_CHUNK_BYTES } from '../../node/p2p/compression.js'
import { startBarePeer, startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import { startRawPeer } from '../helpers/raw-peer.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

/** Text that compresses like build outputs do (≈ 4–6× with zstd -1). */
function textBlob (bytes: number): Buffer {
  const lines: string[] = []
  let size = 0
  for (let i = 0; size < bytes; i++) {
    const line = `  ${i % 7 === 0 ? 'export ' : ''}const value${i} = require('./module${i % 97}.js').build(${i * 31 % 1000}, "${randomBytes(2).toString('hex')}")\n`
    lines.push(line)
    size += line.length
  }
  return Buffer.from(lines.join('')).subarray(0, bytes)
}

/** Honest zstd chunk payloads for `bytes`, as a compressing server sends them. */
function zstdChunks (bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let at = 0; at < bytes.byteLength; at += ZSTD_CHUNK_BYTES) out.push(Buffer.concat([Buffer.of(1), zstdCompressSync(bytes.subarray(at, at + ZSTD_CHUNK_BYTES))]))
  return out
}

async function read (node: Awaited<ReturnType<typeof startP2pTestNode>>, digest: { hash: string, sizeBytes: number }): Promise<{ code: number, data: Buffer }> {
  const r = await unary(node.clients.cas.BatchReadBlobs.bind(node.clients.cas), { digests: [digest] })
  return { code: r.responses[0]!.status!.code, data: r.responses[0]!.data }
}

describe('compressed peer fetches', () => {
  it('gives the same verified bytes compressed and plain, and compresses only what shrinks', async () => {
    const holder = await startBarePeer()
    cleanups.push(holder.stop)
    const text = textBlob(3_000_000)
    const noise = randomBytes(3_000_000)
    const textDigest = digestOf(text)
    const noiseDigest = digestOf(noise)
    await holder.store.put(textDigest, text)
    await holder.store.put(noiseDigest, noise)
    const zstd = await startP2pTestNode({ peers: [holder.p2p.addresses[0]!] })
    cleanups.push(zstd.stop)
    const plain = await startP2pTestNode({ peers: [holder.p2p.addresses[0]!], p2p: { compression: 'off' } })
    cleanups.push(plain.stop)
    await waitFor(() => zstd.p2p.candidates(textDigest).length === 1 && plain.p2p.candidates(textDigest).length === 1, 'the holder\'s announcements')
    const served = (node: typeof zstd): number => holder.p2p.peers().find((p) => p.peerId === node.p2p.peerId)!.bytesServedTo

    const compressed = await read(zstd, textDigest)
    expect(compressed.code).toBe(0)
    expect(compressed.data.equals(text)).toBe(true)
    // On the wire: the compressed chunks, well under half the blob.
    expect(served(zstd)).toBeLessThan(text.byteLength / 2)

    const uncompressed = await read(plain, textDigest)
    expect(uncompressed.data.equals(compressed.data)).toBe(true)
    expect(served(plain)).toBe(text.byteLength)

    // Random bytes: the sample does not shrink, so the body goes plain even to a zstd client.
    const before = served(zstd)
    const random = await read(zstd, noiseDigest)
    expect(random.data.equals(noise)).toBe(true)
    expect(served(zstd) - before).toBe(noise.byteLength)
    expect(await zstd.store.has(textDigest)).toBe(true)
  })

  it('bans a peer whose compressed body restores to wrong bytes, and fetches the blob elsewhere', async () => {
    const liar = await startRawPeer({
      corrupt: (_d, _o, chunk) => { const c = Uint8Array.from(chunk); c[c.length - 1]! ^= 0xff; return c },
      encodeBody: (_d, _o, bytes) => zstdChunks(bytes)
    })
    cleanups.push(liar.stop)
    const honest = await startBarePeer()
    cleanups.push(honest.stop)
    const data = textBlob(2_500_000)
    const { digest } = await liar.put(data)
    await honest.store.put(digest, data)
    const node = await startP2pTestNode({ peers: [liar.addresses[0]!] })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.candidates(digest).length === 1, 'the liar to announce the blob')
    await node.p2p.dial(honest.p2p.addresses[0]!)
    await waitFor(() => node.p2p.candidates(digest).length === 2, 'both peers to announce the blob')
    expect(node.p2p.candidates(digest)[0]).toBe(liar.peerId)
    const got = await read(node, digest)
    expect(got.code).toBe(0)
    expect(got.data.equals(data)).toBe(true)
    expect(liar.served.length).toBe(1)
    expect(node.p2p.peers().find((p) => p.peerId === liar.peerId)!.banned).toBe(true)
  })

  it('refuses a compressed chunk that restores to more than is due, without buffering it', async () => {
    // 64 MiB of zeros compress to a few KiB: a decompression bomb in one small frame.
    const bomb = Buffer.concat([Buffer.of(1), zstdCompressSync(Buffer.alloc(64 * 1024 * 1024))])
    const bomber = await startRawPeer({ encodeBody: () => [bomb] })
    cleanups.push(bomber.stop)
    const honest = await startBarePeer()
    cleanups.push(honest.stop)
    const data = textBlob(500_000)
    const { digest } = await bomber.put(data)
    await honest.store.put(digest, data)
    const node = await startP2pTestNode({ peers: [bomber.addresses[0]!] })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.candidates(digest).length === 1, 'the bomber to announce the blob')
    await node.p2p.dial(honest.p2p.addresses[0]!)
    await waitFor(() => node.p2p.candidates(digest).length === 2, 'both peers to announce the blob')
    const rssBefore = process.memoryUsage().rss
    const got = await read(node, digest)
    expect(got.code).toBe(0)
    expect(got.data.equals(data)).toBe(true)
    expect(bomber.served.length).toBe(1)
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(48 * 1024 * 1024)
    // Misbehaving, so cooled down; the honest peer served the blob.
    expect(node.p2p.peers().find((p) => p.peerId === honest.p2p.peerId)!.bytesFetchedFrom).toBe(data.byteLength)
  })
})

describe('peers from before compression', () => {
  it('serves an old client plain bodies, and reads plain bodies from an old server', async () => {
    const data = textBlob(1_000_000)
    const digest = digestOf(data)
    // Old server (a raw peer without compression) → new client that accepts zstd.
    const oldServer = await startRawPeer()
    cleanups.push(oldServer.stop)
    await oldServer.put(data)
    const node = await startP2pTestNode({ peers: [oldServer.addresses[0]!] })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.candidates(digest).length === 1, 'the old peer to announce the blob')
    const got = await read(node, digest)
    expect(got.code).toBe(0)
    expect(got.data.equals(data)).toBe(true)
    // New server → old client (fetch 1.0.0, no accept_encodings in its request): plain bytes.
    const oldClient = await startRawPeer()
    cleanups.push(oldClient.stop)
    const nodePeer = await oldClient.dial(node.p2p.addresses[0]!)
    const fetched = await oldClient.fetchOnce(nodePeer, digest)
    expect(fetched.header.status).toBe('OK')
    expect(fetched.header.encoding).toBe('PLAIN')
    expect(fetched.data.equals(data)).toBe(true)
  })
})

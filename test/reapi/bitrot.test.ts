import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { open, readdir, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { unary } from '../../node/reapi/clients.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { makeTempDir, startTestNode } from '../helpers/node.js'
import { readBlob, startBarePeer, startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import { expectRpcError } from '../helpers/grpc.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

function blobPath (dir: string, digest: Digest): string {
  return join(dir, 'cas', digest.hash.slice(0, 2), digest.hash)
}

async function rot (dir: string, digest: Digest): Promise<void> {
  const file = await open(blobPath(dir, digest), 'r+')
  try { await file.write(randomBytes(64), 0, 64, Math.floor(digest.sizeBytes / 2)) } finally { await file.close() }
}

/** Writes blobs through a node, stops it cleanly and returns its data dir. */
async function dataDirWith (blobs: Array<{ digest: Digest, data: Buffer }>): Promise<string> {
  const dataDir = await makeTempDir()
  const node = await startTestNode({}, { dataDir, keepData: true })
  for (const { digest, data } of blobs) await node.store.put(digest, data)
  await node.stop()
  return dataDir
}

describe('a blob file that rotted on disk', () => {
  it('is never served: ByteStream.Read and BatchReadBlobs fetch the good bytes from a peer instead', async () => {
    const streamed = randomBytes(3_000_000); const streamedDigest = digestOf(streamed)
    const batched = randomBytes(200_000); const batchedDigest = digestOf(batched)
    const dataDir = await dataDirWith([{ digest: streamedDigest, data: streamed }, { digest: batchedDigest, data: batched }])
    await rot(dataDir, streamedDigest)
    await rot(dataDir, batchedDigest)
    const peer = await startBarePeer()
    cleanups.push(peer.stop)
    await peer.store.put(streamedDigest, streamed)
    await peer.store.put(batchedDigest, batched)
    const node = await startP2pTestNode({ peers: [peer.p2p.addresses[0]!], dataDir })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.candidates(batchedDigest).length === 1, 'the peer to announce its blobs')

    expect((await readBlob(node, streamedDigest)).equals(streamed)).toBe(true)
    const read = await unary(node.clients.cas.BatchReadBlobs.bind(node.clients.cas), { digests: [batchedDigest] })
    expect(read.responses[0]!.status!.code).toBe(status.OK)
    expect(read.responses[0]!.data.equals(batched)).toBe(true)
    expect((await readdir(join(dataDir, 'quarantine'))).length).toBe(2)
    // The fetched copies are sound and stored: a second read is a local hit.
    expect((await node.store.read(streamedDigest))?.equals(streamed)).toBe(true)
  })

  it('answers NOT_FOUND for a truncated file with no other copy, and FindMissing reports it', async () => {
    const data = randomBytes(100_000); const digest = digestOf(data)
    const dataDir = await dataDirWith([{ digest, data }])
    await truncate(blobPath(dataDir, digest), 10)
    const node = await startTestNode({}, { dataDir })
    cleanups.push(node.stop)
    const read = await unary(node.clients.cas.BatchReadBlobs.bind(node.clients.cas), { digests: [digest] })
    expect(read.responses[0]!.status!.code).toBe(status.NOT_FOUND)
    await expectRpcError(readBlob(node, digest), status.NOT_FOUND)
    const missing = await unary(node.clients.cas.FindMissingBlobs.bind(node.clients.cas), { blobDigests: [digest] })
    expect(missing.missingBlobDigests.map((d) => d.hash)).toEqual([digest.hash])
  })

  it('fails ByteStream.Read with NOT_FOUND rather than send wrong bytes when no tier has it', async () => {
    const data = randomBytes(5_000_000); const digest = digestOf(data)
    const dataDir = await dataDirWith([{ digest, data }])
    await rot(dataDir, digest)
    const node = await startTestNode({}, { dataDir })
    cleanups.push(node.stop)
    await expectRpcError(readBlob(node, digest), status.NOT_FOUND)
  })

  it('fails ByteStream.Read with DATA_LOSS when a checked file is truncated while the node runs, and quarantines it', async () => {
    const node = await startTestNode()
    cleanups.push(node.stop)
    const data = randomBytes(2_500_000); const digest = digestOf(data)
    await node.store.put(digest, data)
    await truncate(blobPath(node.dataDir, digest), 1_200_000)
    await expectRpcError(readBlob(node, digest), status.DATA_LOSS, /quarantined/)
    const missing = await unary(node.clients.cas.FindMissingBlobs.bind(node.clients.cas), { blobDigests: [digest] })
    expect(missing.missingBlobDigests.map((d) => d.hash)).toEqual([digest.hash])
  })
})

import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { open, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { unary } from '../../node/reapi/clients.js'
import { digestOf } from '../../node/store/digest.js'
import { readBlob, startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

describe('a node whose disk corrupted a blob it serves to a peer', () => {
  it('never sends the wrong blob whole: it quarantines the file and is not banned, so its other blobs still flow', async () => {
    const server = await startP2pTestNode()
    cleanups.push(server.stop)
    const rotten = randomBytes(1_500_000); const rottenDigest = digestOf(rotten)
    const other = randomBytes(700_000); const otherDigest = digestOf(other)
    await server.store.put(rottenDigest, rotten)
    await server.store.put(otherDigest, other)
    // Rot after the write (the write verified the bytes, so no first-read check will run).
    const file = await open(join(server.dataDir, 'cas', rottenDigest.hash.slice(0, 2), rottenDigest.hash), 'r+')
    await file.write(randomBytes(64), 0, 64, 1_000_000)
    await file.close()

    const client = await startP2pTestNode({ peers: [server.p2p.addresses[0]!] })
    cleanups.push(client.stop)
    await waitFor(() => client.p2p.candidates(otherDigest).length === 1, 'the server to announce its blobs')
    const read = await unary(client.clients.cas.BatchReadBlobs.bind(client.clients.cas), { digests: [rottenDigest] })
    expect(read.responses[0]!.status!.code).toBe(status.NOT_FOUND)
    expect(await client.store.has(rottenDigest)).toBe(false)
    await waitFor(async () => !(await server.store.has(rottenDigest)), 'the server to quarantine the file')
    expect(await readdir(join(server.dataDir, 'quarantine'))).toHaveLength(1)
    const record = client.p2p.peers().find((p) => p.peerId === server.p2p.peerId)!
    expect(record.banned).toBe(false)
    // A cut transfer cools the peer down briefly (5 s, like any failed transfer); then it serves again.
    await new Promise((resolve) => setTimeout(resolve, 5_200))
    expect((await readBlob(client, otherDigest)).equals(other)).toBe(true)
  }, 30_000)
})

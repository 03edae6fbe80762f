import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { unary } from '../../node/reapi/clients.js'
import { BUILDSTREAM_REF_URN_PREFIX } from '../../node/domain/assets.js'
import { digestOf } from '../../node/store/digest.js'
import { expectRpcError } from '../helpers/grpc.js'
import { startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import type { TestNode } from '../helpers/node.js'
import type { P2pService } from '../../node/p2p/index.js'
import { readBlob } from '../helpers/remote-blobs.js'
import { createAssetClients, makeTree, sriOf, startTestOrigin, writeTree, type AssetClients, type TestOrigin } from '../helpers/assets.js'

type P2pNode = TestNode & { p2p: P2pService }

const payload = Buffer.from('an external dependency, fetched once\n'.repeat(500))
const qualifiers = [{ name: 'checksum.sri', value: sriOf(payload) }]
const unpinned = Buffer.from('an external dependency without a checksum\n')

/** Waits until `node` has a connection to `other`. */
async function connected (node: P2pNode, other: P2pNode): Promise<void> {
  await waitFor(() => node.p2p.peers().some((p) => p.peerId === other.p2p.peerId && p.connected === true), `connection to ${other.p2p.peerId}`, 15_000)
}

describe('assets and BuildStream refs between peers', () => {
  let origin: TestOrigin
  let a: P2pNode
  let aClients: AssetClients
  const uri = (): string => `${origin.url}/dep.tar.gz`
  const tree = makeTree('artifact shared between peers')

  beforeAll(async () => {
    origin = await startTestOrigin()
    origin.serve('/dep.tar.gz', payload)
    origin.serve('/plain.txt', unpinned)
    a = await startP2pTestNode()
    aClients = createAssetClients(`unix:${a.socketPath}`)
    // A fetches the assets from the origin and holds an artifact ref; then the origin goes away.
    await unary(aClients.fetch.FetchBlob.bind(aClients.fetch), { uris: [uri()], qualifiers })
    await unary(aClients.fetch.FetchBlob.bind(aClients.fetch), { uris: [`${origin.url}/plain.txt`] })
    await writeTree(a.clients, tree)
    await unary(aClients.refs.UpdateReference.bind(aClients.refs), { keys: ['proj/app/0123abcd'], digest: tree.root })
    await origin.stop()
  }, 60_000)

  afterAll(async () => {
    aClients?.close()
    await a?.stop()
  })

  it('serves an asset A fetched to a peer that trusts A and never saw the URL, with the origin gone', async () => {
    const b = await startP2pTestNode({ peers: [a.p2p.addresses[0]!], trust: [a.p2p.peerId], flags: { assets: { originFetch: false } } })
    const clients = createAssetClients(`unix:${b.socketPath}`)
    try {
      await connected(b, a)
      const got = await unary(clients.fetch.FetchBlob.bind(clients.fetch), { uris: [uri()], qualifiers })
      expect(got.blobDigest).toEqual(digestOf(payload))
      expect((await readBlob(b.clients, digestOf(payload)))?.equals(payload)).toBe(true)
      // The BuildStream artifact too, through both of its APIs, with its whole tree.
      expect((await unary(clients.refs.GetReference.bind(clients.refs), { key: 'proj/app/0123abcd' })).digest).toEqual(tree.root)
      expect((await unary(clients.fetch.FetchDirectory.bind(clients.fetch), { uris: [`${BUILDSTREAM_REF_URN_PREFIX}proj/app/0123abcd`] })).rootDirectoryDigest).toEqual(tree.root)
      for (const file of tree.files) expect((await readBlob(b.clients, file.digest))?.equals(file.data)).toBe(true)
    } finally {
      clients.close()
      await b.stop()
    }
  }, 60_000)

  it('gives a peer that does not trust A only the checksum-pinned asset, which proves itself', async () => {
    const c = await startP2pTestNode({ peers: [a.p2p.addresses[0]!], flags: { assets: { originFetch: false } } })
    const clients = createAssetClients(`unix:${c.socketPath}`)
    try {
      await connected(c, a)
      await expectRpcError(unary(clients.refs.GetReference.bind(clients.refs), { key: 'proj/app/0123abcd' }), status.NOT_FOUND)
      await expectRpcError(unary(clients.fetch.FetchBlob.bind(clients.fetch), { uris: [`${origin.url}/plain.txt`] }), status.NOT_FOUND, /assets\.originFetch is off/)
      const pinned = await unary(clients.fetch.FetchBlob.bind(clients.fetch), { uris: [uri()], qualifiers })
      expect(pinned.blobDigest).toEqual(digestOf(payload))
      expect((await readBlob(c.clients, digestOf(payload)))?.equals(payload)).toBe(true)
    } finally {
      clients.close()
      await c.stop()
    }
  }, 60_000)

  it('travels with sync: a laptop that synced from A serves both with A gone', async () => {
    const laptop = await startP2pTestNode({ trust: [a.p2p.peerId], flags: { assets: { originFetch: false } } })
    const clients = createAssetClients(`unix:${laptop.socketPath}`)
    try {
      let last
      for await (const p of laptop.p2p.sync({ peer: a.p2p.addresses[0]!, sinceMs: 0, acOnly: true, signal: AbortSignal.timeout(30_000) })) last = p
      expect(last?.failedItems ?? 0).toBe(0)
      expect(await laptop.store.names.count('asset')).toBe(2)
      expect(await laptop.store.names.count('ref')).toBe(1)
      await a.stop()
      const got = await unary(clients.fetch.FetchBlob.bind(clients.fetch), { uris: [uri()], qualifiers })
      expect((await readBlob(laptop.clients, got.blobDigest!))?.equals(payload)).toBe(true)
      expect((await unary(clients.refs.GetReference.bind(clients.refs), { key: 'proj/app/0123abcd' })).digest).toEqual(tree.root)
      for (const file of tree.files) expect((await readBlob(laptop.clients, file.digest))?.equals(file.data)).toBe(true)
    } finally {
      clients.close()
      await laptop.stop()
    }
  }, 60_000)
})

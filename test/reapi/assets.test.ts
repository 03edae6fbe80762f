import { status } from '@grpc/grpc-js'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { unary } from '../../node/reapi/clients.js'
import { assetKey, BUILDSTREAM_REF_URN_PREFIX } from '../../node/domain/assets.js'
import { assetName } from '../../node/domain/names.js'
import { digestOf } from '../../node/store/digest.js'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { expectRpcError } from '../helpers/grpc.js'
import { findMissing, readBlob, writeBlobs } from '../helpers/remote-blobs.js'
import { createAssetClients, makeTree, sriOf, startTestOrigin, writeTree, type AssetClients, type TestOrigin } from '../helpers/assets.js'

const payload = Buffer.from('the content of an external dependency\n'.repeat(1000))
const sri = [{ name: 'checksum.sri', value: sriOf(payload) }]

describe('Remote Asset API: FetchBlob', () => {
  let node: TestNode
  let assets: AssetClients
  let origin: TestOrigin

  beforeAll(async () => {
    origin = await startTestOrigin()
    node = await startTestNode({ assets: { maxDownloadSize: '1MiB' } })
    assets = createAssetClients(`unix:${node.socketPath}`)
  })
  afterAll(async () => {
    assets?.close()
    await node?.stop()
    await origin?.stop()
  })

  it('downloads a missing asset from its origin once, verifies it, and serves it from the cache after', async () => {
    origin.serve('/dep.tar.gz', payload)
    const uri = `${origin.url}/dep.tar.gz`
    const first = await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [uri], qualifiers: sri })
    expect(first.status?.code).toBe(0)
    expect(first.uri).toBe(uri)
    expect(first.blobDigest).toEqual(digestOf(payload))
    expect((await readBlob(node.clients, digestOf(payload)))?.equals(payload)).toBe(true)
    const again = await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [uri], qualifiers: sri })
    expect(again.blobDigest).toEqual(digestOf(payload))
    expect(origin.hits('/dep.tar.gz')).toBe(1)
  })

  it('answers from any one of the URIs it knows, and tries mirrors in order on a miss', async () => {
    const data = Buffer.from('mirrored\n')
    origin.serve('/mirror/m.txt', data)
    const uris = [`${origin.url}/gone/m.txt`, `${origin.url}/mirror/m.txt`]
    const got = await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris, qualifiers: [{ name: 'checksum.sri', value: sriOf(data) }] })
    expect(got.uri).toBe(uris[1])
    expect(got.blobDigest).toEqual(digestOf(data))
    // The mapping is recorded for the URI that worked; asking with it alone is a hit.
    const alone = await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [uris[1]!], qualifiers: [{ name: 'checksum.sri', value: sriOf(data) }] })
    expect(alone.blobDigest).toEqual(digestOf(data))
    expect(origin.hits('/mirror/m.txt')).toBe(1)
  })

  it('refuses bytes that do not match checksum.sri and stores nothing', async () => {
    const corrupted = Buffer.from(payload)
    corrupted[10] ^= 0xff
    origin.serve('/corrupted.tar.gz', corrupted)
    const uri = `${origin.url}/corrupted.tar.gz`
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [uri], qualifiers: sri }), status.DATA_LOSS, /do not match checksum\.sri.*nothing was stored/)
    expect(await findMissing(node.clients, [digestOf(corrupted)])).toEqual([digestOf(corrupted).hash])
    expect(await node.store.names.get(assetName('', assetKey(uri, sri)))).toBeUndefined()
  })

  it('verifies sha384 and sha512 SRI hashes too', async () => {
    const data = Buffer.from('pinned by sha512\n')
    origin.serve('/sha512.txt', data)
    const ok = await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/sha512.txt`], qualifiers: [{ name: 'checksum.sri', value: sriOf(data, 'sha512') }] })
    expect(ok.blobDigest).toEqual(digestOf(data))
    origin.serve('/sha384.txt', Buffer.from('other bytes'))
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/sha384.txt`], qualifiers: [{ name: 'checksum.sri', value: sriOf(data, 'sha384') }] }), status.DATA_LOSS, /sha384/)
  })

  it('refuses qualifiers it does not understand, naming them', async () => {
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/x`], qualifiers: [{ name: 'vcs.branch', value: 'main' }] }), status.INVALID_ARGUMENT, /qualifier "vcs\.branch" not supported \(this node understands checksum\.sri, bazel\.canonical_id\)/)
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/x`], qualifiers: [...sri, ...sri] }), status.INVALID_ARGUMENT, /given twice/)
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/x`], qualifiers: [{ name: 'checksum.sri', value: 'md5-abc' }] }), status.INVALID_ARGUMENT, /checksum\.sri "md5-abc"/)
  })

  it('refuses malformed URIs with INVALID_ARGUMENT', async () => {
    const fetchBlob = async (uris: string[]): Promise<unknown> => await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris, qualifiers: sri })
    await expectRpcError(fetchBlob([]), status.INVALID_ARGUMENT, /uris is empty/)
    await expectRpcError(fetchBlob(['not a uri']), status.INVALID_ARGUMENT, /whitespace/)
    await expectRpcError(fetchBlob(['relative/path.tar.gz']), status.INVALID_ARGUMENT, /not an absolute URI/)
    await expectRpcError(fetchBlob(['http://']), status.INVALID_ARGUMENT, /uris\[0\]/)
    await expectRpcError(fetchBlob([`${origin.url}/ok`, 'x'.repeat(9000)]), status.INVALID_ARGUMENT, /uris\[1\] is 9000 characters long/)
  })

  it('refuses downloads over the size cap, declared or not, and stores nothing', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 7)
    origin.serve('/big-declared', big)
    origin.serve('/big-chunked', (_req, res) => {
      res.writeHead(200)
      for (let i = 0; i < 32; i++) res.write(big.subarray(i * 65536, (i + 1) * 65536))
      res.end()
    })
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/big-declared`] }), status.RESOURCE_EXHAUSTED, /2097152 bytes; this node downloads at most 1048576/)
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/big-chunked`] }), status.RESOURCE_EXHAUSTED, /more than 1048576 bytes/)
    expect(await findMissing(node.clients, [digestOf(big)])).toEqual([digestOf(big).hash])
  })

  it('maps origin failures to statuses: 404 → NOT_FOUND, 403 → PERMISSION_DENIED, refused connection → UNAVAILABLE, urn: → NOT_FOUND', async () => {
    origin.serve('/forbidden', (_req, res) => { res.writeHead(403).end() })
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/nothing-here`] }), status.NOT_FOUND, /answered HTTP 404/)
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/forbidden`] }), status.PERMISSION_DENIED, /answered HTTP 403/)
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: ['http://127.0.0.1:1/x'] }), status.UNAVAILABLE, /cannot download/)
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: ['urn:example:never-pushed'] }), status.NOT_FOUND, /only http and https/)
  })

  it('reports asset counts, hits and misses in the node status', async () => {
    const { store, hits } = await node.status()
    expect(store?.assetCount).toBe(await node.store.names.count('asset'))
    expect(store?.assetCount).toBeGreaterThanOrEqual(3)
    expect(hits?.assetHits).toBeGreaterThanOrEqual(2)
    expect(hits?.assetMisses).toBeGreaterThanOrEqual(3)
    expect(store?.refCount).toBe(0)
  })

  it('follows redirects', async () => {
    const data = Buffer.from('behind a redirect\n')
    origin.serve('/final', data)
    origin.serve('/redirect', (_req, res) => { res.writeHead(302, { location: '/final' }).end() })
    const got = await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/redirect`], qualifiers: [{ name: 'checksum.sri', value: sriOf(data) }] })
    expect(got.blobDigest).toEqual(digestOf(data))
  })
})

describe('Remote Asset API: Push, FetchDirectory, and a node that never reaches the internet', () => {
  let node: TestNode
  let assets: AssetClients
  let origin: TestOrigin

  beforeAll(async () => {
    origin = await startTestOrigin()
    node = await startTestNode({ assets: { originFetch: false } })
    assets = createAssetClients(`unix:${node.socketPath}`)
  })
  afterAll(async () => {
    assets?.close()
    await node?.stop()
    await origin?.stop()
  })

  it('does not contact the origin when origin fetch is off', async () => {
    origin.serve('/dep', payload)
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [`${origin.url}/dep`], qualifiers: sri }), status.NOT_FOUND, /does not download from origins \(assets\.originFetch is off\)/)
    expect(origin.hits('/dep')).toBe(0)
  })

  it('serves pushed blobs under each pushed URI', async () => {
    const blob = { digest: digestOf(payload), data: payload }
    await writeBlobs(node.clients, [blob])
    await unary(assets.push.PushBlob.bind(assets.push), { uris: ['https://a.example/dep.tgz', 'https://b.example/dep.tgz'], qualifiers: sri, blobDigest: blob.digest })
    for (const uri of ['https://b.example/dep.tgz', 'https://a.example/dep.tgz']) {
      const got = await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [uri], qualifiers: sri })
      expect(got.blobDigest).toEqual(blob.digest)
    }
    // Other qualifiers are another name.
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: ['https://a.example/dep.tgz'] }), status.NOT_FOUND)
  })

  it('refuses a push whose content is not in the CAS, or whose digest contradicts checksum.sri', async () => {
    const absent = digestOf(Buffer.from('never uploaded'))
    await expectRpcError(unary(assets.push.PushBlob.bind(assets.push), { uris: ['https://a.example/absent'], blobDigest: absent }), status.FAILED_PRECONDITION, /not in the CAS/)
    const present = digestOf(payload)
    await expectRpcError(unary(assets.push.PushBlob.bind(assets.push), { uris: ['https://a.example/x'], qualifiers: [{ name: 'checksum.sri', value: sriOf(Buffer.from('other')) }], blobDigest: present }), status.INVALID_ARGUMENT, /contradicts checksum\.sri/)
    await expectRpcError(unary(assets.push.PushBlob.bind(assets.push), { uris: [], blobDigest: present }), status.INVALID_ARGUMENT, /uris is empty/)
  })

  it('does not serve a pushed mapping after its expiry', async () => {
    const blob = { digest: digestOf(payload), data: payload }
    const uri = 'https://a.example/expiring'
    await unary(assets.push.PushBlob.bind(assets.push), { uris: [uri], blobDigest: blob.digest, expireAt: { seconds: Math.floor(Date.now() / 1000) + 1 } })
    expect((await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [uri] })).blobDigest).toEqual(blob.digest)
    await new Promise((resolve) => setTimeout(resolve, 2100))
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [uri] }), status.NOT_FOUND)
  })

  it('serves pushed directories only while the whole tree is complete', async () => {
    const tree = makeTree('push-directory')
    await expectRpcError(unary(assets.push.PushDirectory.bind(assets.push), { uris: ['git+https://example/repo@abc'], rootDirectoryDigest: tree.root }), status.FAILED_PRECONDITION, /not complete in the CAS/)
    await writeTree(node.clients, tree)
    await unary(assets.push.PushDirectory.bind(assets.push), { uris: ['git+https://example/repo@abc'], rootDirectoryDigest: tree.root })
    const got = await unary(assets.fetch.FetchDirectory.bind(assets.fetch), { uris: ['git+https://example/repo@abc'] })
    expect(got.rootDirectoryDigest).toEqual(tree.root)
    // A blob name is not a directory name.
    await expectRpcError(unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: ['git+https://example/repo@abc'] }), status.NOT_FOUND)
    await expectRpcError(unary(assets.fetch.FetchDirectory.bind(assets.fetch), { uris: [] }), status.INVALID_ARGUMENT, /uris is empty/)
  })
})

describe('BuildStream ReferenceStorage', () => {
  let node: TestNode
  let assets: AssetClients

  beforeAll(async () => {
    node = await startTestNode({ listen: ['127.0.0.1:0'] })
    assets = createAssetClients(node.tcpAddresses[0]!)
  })
  afterAll(async () => {
    assets?.close()
    await node?.stop()
  })

  it('allows updates', async () => {
    expect(await unary(assets.refs.Status.bind(assets.refs), {})).toEqual({ allowUpdates: true })
  })

  it('stores refs to complete trees and serves them, also as BuildStream Remote Asset URNs', async () => {
    const tree = makeTree('ref')
    await writeTree(node.clients, tree)
    await unary(assets.refs.UpdateReference.bind(assets.refs), { keys: ['proj/hello/abc123', 'proj/hello/latest'], digest: tree.root })
    for (const key of ['proj/hello/abc123', 'proj/hello/latest']) {
      expect((await unary(assets.refs.GetReference.bind(assets.refs), { key })).digest).toEqual(tree.root)
    }
    const viaAsset = await unary(assets.fetch.FetchDirectory.bind(assets.fetch), { uris: [`${BUILDSTREAM_REF_URN_PREFIX}proj/hello/abc123`] })
    expect(viaAsset.rootDirectoryDigest).toEqual(tree.root)
    // And the other way round.
    const other = makeTree('ref via asset')
    await writeTree(node.clients, other)
    await unary(assets.push.PushDirectory.bind(assets.push), { uris: [`${BUILDSTREAM_REF_URN_PREFIX}proj/other/def456`], rootDirectoryDigest: other.root })
    expect((await unary(assets.refs.GetReference.bind(assets.refs), { key: 'proj/other/def456' })).digest).toEqual(other.root)
  })

  it('answers NOT_FOUND for unknown refs and refuses incomplete trees', async () => {
    await expectRpcError(unary(assets.refs.GetReference.bind(assets.refs), { key: 'proj/none/0' }), status.NOT_FOUND, /proj\/none\/0/)
    await expectRpcError(unary(assets.fetch.FetchDirectory.bind(assets.fetch), { uris: [`${BUILDSTREAM_REF_URN_PREFIX}proj/none/0`] }), status.NOT_FOUND)
    const tree = makeTree('incomplete')
    await writeBlobs(node.clients, tree.blobs.filter((b) => b !== tree.files[1]))
    await expectRpcError(unary(assets.refs.UpdateReference.bind(assets.refs), { keys: ['proj/incomplete/1'], digest: tree.root }), status.FAILED_PRECONDITION, new RegExp(`${tree.files[1]!.digest.hash}.*not in the CAS`))
  })

  it('refuses ref names with path tricks', async () => {
    const tree = makeTree('tricks')
    await writeTree(node.clients, tree)
    for (const key of ['../../etc/passwd', '/abs/ref', 'a//b', 'a/./b', 'a/..', 'a\\..\\b', 'nul\0byte', '']) {
      await expectRpcError(unary(assets.refs.UpdateReference.bind(assets.refs), { keys: ['ok/ref', key], digest: tree.root }), status.INVALID_ARGUMENT, /keys\[1\]/)
      await expectRpcError(unary(assets.refs.GetReference.bind(assets.refs), { key }), status.INVALID_ARGUMENT, /key/)
    }
    // Nothing of the refused update was stored.
    await expectRpcError(unary(assets.refs.GetReference.bind(assets.refs), { key: 'ok/ref' }), status.NOT_FOUND)
    await expectRpcError(unary(assets.push.PushDirectory.bind(assets.push), { uris: [`${BUILDSTREAM_REF_URN_PREFIX}../x`], rootDirectoryDigest: tree.root }), status.INVALID_ARGUMENT, /"\.\.\/x" has an empty, "\." or "\.\." segment/)
  })
})

describe('BuildStream ref updates per endpoint (allowRefUpdates)', () => {
  let node: TestNode
  let readOnly: AssetClients
  let writers: AssetClients

  beforeAll(async () => {
    // The node's own listener takes no ref updates; an extra endpoint does.
    node = await startTestNode({ listen: ['127.0.0.1:0'], allowRefUpdates: false, endpoints: [{ listen: '127.0.0.1:0', environment: 'ci-writers', allowRefUpdates: true }] })
    readOnly = createAssetClients(node.tcpAddresses[0]!)
    writers = createAssetClients(node.endpoints.list()[0]!.address)
  })
  afterAll(async () => {
    readOnly?.close()
    writers?.close()
    await node?.stop()
  })

  it('says so in Status and refuses UpdateReference and ref pushes with PERMISSION_DENIED where updates are off', async () => {
    expect(await unary(readOnly.refs.Status.bind(readOnly.refs), {})).toEqual({ allowUpdates: false })
    expect(await unary(writers.refs.Status.bind(writers.refs), {})).toEqual({ allowUpdates: true })
    const tree = makeTree('per endpoint')
    await writeTree(node.clients, tree)
    await expectRpcError(unary(readOnly.refs.UpdateReference.bind(readOnly.refs), { keys: ['proj/ro/1'], digest: tree.root }), status.PERMISSION_DENIED, /allowRefUpdates: false/)
    await expectRpcError(unary(readOnly.push.PushDirectory.bind(readOnly.push), { uris: [`${BUILDSTREAM_REF_URN_PREFIX}proj/ro/1`], rootDirectoryDigest: tree.root }), status.PERMISSION_DENIED, /allowRefUpdates: false/)
    await expectRpcError(unary(readOnly.refs.GetReference.bind(readOnly.refs), { key: 'proj/ro/1' }), status.NOT_FOUND)
    // BuildStream 1.6.8's probe for push (an empty PushDirectory): refused here, "supported" there.
    await expectRpcError(unary(readOnly.push.PushDirectory.bind(readOnly.push), {}), status.PERMISSION_DENIED)
    await expectRpcError(unary(writers.push.PushDirectory.bind(writers.push), {}), status.INVALID_ARGUMENT)
    // Other pushes still work there, and reads of refs pushed elsewhere too.
    await unary(readOnly.push.PushDirectory.bind(readOnly.push), { uris: ['https://example.com/tree'], rootDirectoryDigest: tree.root })
    await unary(writers.refs.UpdateReference.bind(writers.refs), { keys: ['proj/rw/1'], digest: tree.root })
    expect((await unary(readOnly.refs.GetReference.bind(readOnly.refs), { key: 'proj/rw/1' })).digest).toEqual(tree.root)
  })
})

describe('origin downloads through a proxy', () => {
  let node: TestNode | undefined
  let proxy: ReturnType<typeof createServer> | undefined
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY }

  afterEach(async () => {
    await node?.stop()
    await new Promise<void>((resolve) => { if (proxy === undefined) resolve(); else { proxy.closeAllConnections(); proxy.close(() => resolve()) } })
    for (const [key, value] of Object.entries(saved)) { if (value === undefined) delete process.env[key]; else process.env[key] = value }
  })

  it('goes through HTTP_PROXY from the environment', async () => {
    const origin = await startTestOrigin()
    try {
      const data = Buffer.from('via the proxy\n')
      origin.serve('/dep', data)
      const seen: string[] = []
      // A forward proxy that relays every absolute-URI request to the test origin.
      proxy = createServer((req, res) => {
        seen.push(req.url ?? '')
        const target = new URL(req.url ?? '/')
        const upstream = httpRequest(`${origin.url}${target.pathname}`, { method: req.method }, (up) => { res.writeHead(up.statusCode ?? 502, up.headers); up.pipe(res) })
        upstream.on('error', () => res.writeHead(502).end())
        upstream.end()
      })
      await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve))
      process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
      delete process.env.NO_PROXY
      node = await startTestNode()
      const assets = createAssetClients(`unix:${node.socketPath}`)
      try {
        // A host name that does not resolve: only the proxy can answer.
        const got = await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: ['http://assets.example.invalid/dep'], qualifiers: [{ name: 'checksum.sri', value: sriOf(data) }] })
        expect(got.blobDigest).toEqual(digestOf(data))
        expect(seen).toEqual(['http://assets.example.invalid/dep'])
      } finally {
        assets.close()
      }
    } finally {
      await origin.stop()
    }
  })
})

import { describe, it, expect, afterAll, beforeAll } from 'vitest'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { expectRpcError, collect } from '../helpers/grpc.js'
import { unary } from '../../node/reapi/clients.js'
import { reapi } from '../../node/reapi/protos.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import type { ActionResult } from '../../node/generated/build/bazel/remote/execution/v2/ActionResult.js'

describe('ActionCache, Capabilities and Execution', () => {
  let node: TestNode
  let c: TestNode['clients']
  beforeAll(async () => { node = await startTestNode(); c = node.clients })
  afterAll(async () => { await node.stop() })

  const upload = async (...blobs: Buffer[]): Promise<Digest[]> => {
    await unary(c.cas.BatchUpdateBlobs.bind(c.cas), { requests: blobs.map((b) => ({ digest: digestOf(b), data: b })) })
    return blobs.map(digestOf)
  }
  const updateResult = async (actionDigest: Digest, actionResult: ActionResult, instanceName = '') =>
    await unary(c.actionCache.UpdateActionResult.bind(c.actionCache), { instanceName, actionDigest, actionResult })
  const getResult = async (actionDigest: Digest, instanceName = '') =>
    await unary(c.actionCache.GetActionResult.bind(c.actionCache), { instanceName, actionDigest })

  it('returns a stored result with every field intact when all its blobs are present', async () => {
    const [out, stdout, treeFile] = await upload(randomBytes(100), Buffer.from('compiling\n'), randomBytes(50))
    const tree = reapi.Tree.serialize({ root: { files: [{ name: 'a.o', digest: treeFile, isExecutable: true }] }, children: [] })
    const [treeDigest] = await upload(tree)
    const action = digestOf(randomBytes(32))
    const result: ActionResult = {
      outputFiles: [{ path: 'out/bin', digest: out, isExecutable: true }],
      outputDirectories: [{ path: 'out/dir', treeDigest, isTopologicallySorted: true }],
      outputSymlinks: [{ path: 'out/link', target: 'bin' }],
      exitCode: 0,
      stdoutDigest: stdout,
      executionMetadata: { worker: 'laptop-7', auxiliaryMetadata: [{ type_url: 'type.example/x', value: Buffer.from([1, 2, 3]) }] } as never
    }
    await updateResult(action, result)
    const got = await getResult(action)
    expect(got.outputFiles).toEqual([expect.objectContaining({ path: 'out/bin', isExecutable: true, digest: { hash: out!.hash, sizeBytes: out!.sizeBytes } })])
    expect(got.outputDirectories[0]).toMatchObject({ path: 'out/dir', isTopologicallySorted: true, treeDigest: { hash: treeDigest!.hash } })
    expect(got.outputSymlinks[0]).toMatchObject({ path: 'out/link', target: 'bin' })
    expect(got.stdoutDigest).toMatchObject({ hash: stdout!.hash })
    expect(got.executionMetadata).toMatchObject({ worker: 'laptop-7' })
    expect((got.executionMetadata!.auxiliaryMetadata[0] as unknown as { type_url: string }).type_url).toBe('type.example/x')
  })

  it('answers NOT_FOUND for an unknown action', async () => {
    const action = digestOf(randomBytes(32))
    await expectRpcError(getResult(action), status.NOT_FOUND, new RegExp(action.hash))
  })

  it('treats a result whose output file is missing as a miss', async () => {
    const action = digestOf(randomBytes(32))
    await updateResult(action, { outputFiles: [{ path: 'gone', digest: digestOf(randomBytes(10)) }] })
    await expectRpcError(getResult(action), status.NOT_FOUND, /no complete action result/)
  })

  it('stops serving a result it answered a moment ago once a blob it names leaves the store', async () => {
    // A file blob (over the inline threshold): its file can be deleted by hand.
    const big = randomBytes(40_000)
    const [out] = await upload(big)
    const action = digestOf(randomBytes(32))
    await updateResult(action, { outputFiles: [{ path: 'out/big', digest: out! }] })
    // Answered twice: the second answer may reuse the first one's completeness check.
    await getResult(action)
    await getResult(action)
    await rm(join(node.dataDir, 'cas', out!.hash.slice(0, 2), out!.hash))
    // A read finds the file gone and drops the blob from the index.
    await expectRpcError(collect(c.byteStream.Read({ resourceName: `blobs/${out!.hash}/${out!.sizeBytes}` })), status.NOT_FOUND)
    await expectRpcError(getResult(action), status.NOT_FOUND, /no complete action result/)
    expect((await unary(c.cas.FindMissingBlobs.bind(c.cas), { blobDigests: [out!] })).missingBlobDigests).toHaveLength(1)
  })

  it('treats a result whose stdout or stderr blob is missing as a miss', async () => {
    const action = digestOf(randomBytes(32))
    await updateResult(action, { stderrDigest: digestOf(randomBytes(10)) })
    await expectRpcError(getResult(action), status.NOT_FOUND)
  })

  it('treats a result as a miss when its tree, or a file inside the tree, is missing', async () => {
    const absentTreeAction = digestOf(randomBytes(32))
    await updateResult(absentTreeAction, { outputDirectories: [{ path: 'd', treeDigest: digestOf(randomBytes(20)) }] })
    await expectRpcError(getResult(absentTreeAction), status.NOT_FOUND)

    const tree = reapi.Tree.serialize({ root: { files: [] }, children: [{ files: [{ name: 'deep', digest: digestOf(randomBytes(9)) }] }] })
    const [treeDigest] = await upload(tree)
    const action = digestOf(randomBytes(32))
    await updateResult(action, { outputDirectories: [{ path: 'd', treeDigest }] })
    await expectRpcError(getResult(action), status.NOT_FOUND)
  })

  it('checks every size listed for a hash, not just the last one', async () => {
    const [out] = await upload(randomBytes(100))
    const action = digestOf(randomBytes(32))
    await updateResult(action, { outputFiles: [{ path: 'big', digest: { hash: out!.hash, sizeBytes: 999 } }, { path: 'ok', digest: out }] })
    await expectRpcError(getResult(action), status.NOT_FOUND)
  })

  it('treats a result whose tree blob is not a Tree as a miss', async () => {
    const [junk] = await upload(Buffer.from([0xff, 0xff, 0xff, 0x01]))
    const action = digestOf(randomBytes(32))
    await updateResult(action, { outputDirectories: [{ path: 'd', treeDigest: junk }] })
    await expectRpcError(getResult(action), status.NOT_FOUND)
  })

  it('keeps results of different instance names apart', async () => {
    const [out] = await upload(randomBytes(10))
    const action = digestOf(randomBytes(32))
    await updateResult(action, { outputFiles: [{ path: 'x', digest: out }], exitCode: 3 }, 'team-a')
    expect((await getResult(action, 'team-a')).exitCode).toBe(3)
    await expectRpcError(getResult(action, 'team-b'), status.NOT_FOUND)
    await expectRpcError(getResult(action), status.NOT_FOUND)
  })

  it('rejects results with malformed digests and requests with bad action digests', async () => {
    const action = digestOf(randomBytes(32))
    await expectRpcError(updateResult(action, { outputFiles: [{ path: 'x', digest: { hash: 'nothex', sizeBytes: 1 } }] }), status.INVALID_ARGUMENT, /output_files\[0\]/)
    await expectRpcError(getResult({ hash: action.hash, sizeBytes: -1 }), status.INVALID_ARGUMENT, /negative/)
    await expectRpcError(unary(c.actionCache.UpdateActionResult.bind(c.actionCache), { actionDigest: action }), status.INVALID_ARGUMENT, /action_result is missing/)
    await expectRpcError(getResult(action), status.NOT_FOUND)
  })

  it('advertises SHA256, an updatable action cache, a 4 MiB batch limit and no execution', async () => {
    const caps = await unary(c.capabilities.GetCapabilities.bind(c.capabilities), { instanceName: '' })
    expect(caps.cacheCapabilities).toMatchObject({
      digestFunctions: ['SHA256'],
      actionCacheUpdateCapabilities: { updateEnabled: true },
      maxBatchTotalSizeBytes: 4 * 1024 * 1024
    })
    expect(caps.executionCapabilities).toMatchObject({ execEnabled: false })
    expect(caps.lowApiVersion).toMatchObject({ major: 2, minor: 0 })
    expect(caps.highApiVersion!.major).toBe(2)
  })

  it('answers Execute with UNIMPLEMENTED and a message saying to use it as a cache', async () => {
    await expectRpcError(collect(c.execution.Execute({ actionDigest: digestOf(randomBytes(3)) })), status.UNIMPLEMENTED, /cache-only.*--remote_cache/)
  })
})

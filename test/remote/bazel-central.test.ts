import { afterAll, describe, expect, it } from 'vitest'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { flushNode } from '../helpers/remote-blobs.js'
import { BAZEL_BIN, bazelBuild, collectBazelOutputs, describeBazelResult, hasBazel, prepareBazelWorkspace, type BazelWorkspace } from '../helpers/bazel.js'

const bazelAvailable = await hasBazel()
if (!bazelAvailable) console.warn(`[remote bazel] SKIPPED: ${BAZEL_BIN} not found`)

describe.skipIf(!bazelAvailable)('Bazel through a node backed by a peercas central', () => {
  const nodes: TestNode[] = []
  const workspaces: BazelWorkspace[] = []
  afterAll(async () => {
    for (const n of nodes.reverse()) await n.stop()
    for (const ws of workspaces) await ws.cleanup()
  }, 60_000)

  it('serves a rebuild on a fresh node with the same central and no peers entirely from the cache', async () => {
    const central = await startTestNode({ listen: ['127.0.0.1:0'] })
    nodes.push(central)
    const remote = { endpoint: `grpc://${central.tcpAddresses[0]}` }
    const a = await startTestNode({ listen: ['127.0.0.1:0'], remote })
    nodes.push(a)

    const ws = await prepareBazelWorkspace()
    workspaces.push(ws)
    const cold = await bazelBuild(ws.workspaceDir, { remoteCache: `grpc://${a.tcpAddresses[0]}` })
    expect(cold.exitCode, describeBazelResult(cold)).toBe(0)
    expect(cold.totalActions).toBeGreaterThan(10)
    await flushNode(a, 60_000)
    expect(await central.store.names.count('action-result')).toBeGreaterThanOrEqual(cold.totalActions)

    const d = await startTestNode({ listen: ['127.0.0.1:0'], remote })
    nodes.push(d)
    const other = await prepareBazelWorkspace()
    workspaces.push(other)
    const warm = await bazelBuild(other.workspaceDir, { remoteCache: `grpc://${d.tcpAddresses[0]}` })
    expect(warm.exitCode, describeBazelResult(warm)).toBe(0)
    expect(warm.totalActions).toBe(cold.totalActions)
    expect(warm.remoteCacheHits, describeBazelResult(warm)).toBe(warm.totalActions)
    expect(await collectBazelOutputs(other.workspaceDir)).toEqual(await collectBazelOutputs(ws.workspaceDir))
    expect((await d.status()).hits?.remoteHits).toBeGreaterThan(0)
  }, 300_000)
})

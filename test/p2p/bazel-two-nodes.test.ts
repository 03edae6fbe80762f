// Two teammates: a cold build through node A fills A's cache; after `bazel clean --expunge`
// the rebuild goes through node B, which has nothing locally. Both run as a team would: behind a
// shared team key, with trust.results "team" (B accepts results signed by any team member; no
// peer is listed). Every action must be a remote cache hit, served by B from A over libp2p.

import { afterAll, describe, expect, it } from 'vitest'
import {
  BAZEL_BIN, bazelBuild, bazelClean, collectBazelOutputs, describeBazelResult, hasBazel,
  prepareBazelWorkspace, type BazelWorkspace
} from '../helpers/bazel.js'
import { startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'
import type { TestNode } from '../helpers/node.js'

const bazelAvailable = await hasBazel()
if (!bazelAvailable) console.warn(`[bazel p2p] SKIPPED: ${BAZEL_BIN} not found (install Debian's bazel-bootstrap).`)

describe.skipIf(!bazelAvailable)('Bazel rebuild through a second node that fetches from the first', () => {
  const nodes: TestNode[] = []
  let ws: BazelWorkspace | undefined
  afterAll(async () => {
    for (const n of nodes) await n.stop()
    await ws?.cleanup()
  }, 60_000)

  it('serves every action of the rebuild from the peer (team key, trust.results: team)', async () => {
    const a = await startP2pTestNode({ flags: { listen: ['127.0.0.1:0'] }, results: 'team' })
    nodes.push(a)
    const b = await startP2pTestNode({ flags: { listen: ['127.0.0.1:0'] }, peers: [a.p2p.addresses[0]!], results: 'team' })
    nodes.push(b)
    await waitFor(() => b.p2p.peers().some((p) => p.peerId === a.p2p.peerId && p.connected), 'B to connect to A')
    ws = await prepareBazelWorkspace()

    const cold = await bazelBuild(ws.workspaceDir, { remoteCache: `grpc://${a.tcpAddresses[0]}` })
    expect(cold.exitCode, describeBazelResult(cold)).toBe(0)
    expect(cold.totalActions).toBeGreaterThan(10)
    const coldOutputs = await collectBazelOutputs(ws.workspaceDir)
    const clean = await bazelClean(ws.workspaceDir, { expunge: true })
    expect(clean.exitCode, describeBazelResult(clean)).toBe(0)

    const warm = await bazelBuild(ws.workspaceDir, { remoteCache: `grpc://${b.tcpAddresses[0]}` })
    expect(warm.exitCode, describeBazelResult(warm)).toBe(0)
    expect(warm.totalActions).toBe(cold.totalActions)
    expect(warm.remoteCacheHits, `not all actions were cache hits:\n${describeBazelResult(warm)}`).toBe(warm.totalActions)
    expect(await collectBazelOutputs(ws.workspaceDir)).toEqual(coldOutputs)
    const status = await b.status()
    expect(Number(status.hits!.peerHits)).toBeGreaterThan(0)
    expect(Number(status.hits!.actionCacheHits)).toBe(warm.totalActions)
  }, 300_000)
})

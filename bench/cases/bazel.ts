import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { profileArgs, type BenchCase, type Figure } from '../lib/case.js'
import { startPeercas, type PeercasProcess } from '../lib/peercas-process.js'
import { benchTeamKey } from '../lib/team-key.js'
import { round } from '../lib/stats.js'
import { createClients, unary } from '../../node/reapi/clients.js'
import { waitFor } from '../../test/helpers/wait.js'
import { bazelBuild, bazelClean, describeBazelResult, hasBazel, prepareBazelWorkspace, type BazelBuildResult } from '../../test/helpers/bazel.js'

const RULES = 300

/**
 * Writes a workspace of `rules` genrules with mixed output sizes (70% 1–16 KiB, 25% 64 KiB–1 MiB,
 * 5% 4–16 MiB), each also depending on up to two earlier rules, using only coreutils.
 */
export async function generateWorkspace (dir: string, rules: number): Promise<void> {
  await mkdir(dir, { recursive: true })
  let seed = 12345
  const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
  const lines: string[] = []
  for (let i = 0; i < rules; i++) {
    const r = random()
    const size = r < 0.7 ? 1024 + Math.floor(random() * 15 * 1024) : r < 0.95 ? 65536 + Math.floor(random() * 960 * 1024) : 4 * 1048576 + Math.floor(random() * 12 * 1048576)
    const deps = i === 0 ? [] : [...new Set([Math.floor(random() * i), Math.floor(random() * i)])].map((d) => `:r${d}`)
    const src = deps.length > 0 ? 'cat $(SRCS) | sha256sum >> $@; ' : ''
    lines.push(`genrule(name = "r${i}", srcs = [${deps.map((d) => `"${d}"`).join(', ')}], outs = ["r${i}.out"], cmd = "${src}head -c ${size} /dev/zero | tr '\\\\0' '${String.fromCharCode(97 + (i % 26))}' >> $@; echo ${i} >> $@")`)
  }
  await writeFile(join(dir, 'WORKSPACE'), '')
  await writeFile(join(dir, 'BUILD'), lines.join('\n') + '\n')
}

/** Waits until `node` has `peer`'s availability summary (its admin GetStatus). */
async function waitForSummary (node: PeercasProcess, peerId: string): Promise<void> {
  const clients = createClients(node.target)
  try {
    await waitFor(async () => {
      const status = await unary(clients.admin.GetStatus.bind(clients.admin), {})
      return status.peers.some((p) => p.peerId === peerId && p.connected && Number(p.blobsAdvertised) > 0)
    }, `node to receive peer ${peerId}'s summary`, 30_000, 100)
  } finally {
    clients.close()
  }
}

function allHits (result: BazelBuildResult): boolean {
  return result.exitCode === 0 && result.totalActions > 0 && result.remoteCacheHits === result.totalActions
}

/**
 * Bazel (Debian bazel-bootstrap) warm rebuild after `bazel clean` of a few hundred genrules:
 * through peercas as --remote_cache versus Bazel's own --disk_cache; and after
 * `bazel clean --expunge`, through a node B that holds nothing and trusts node A (which built
 * everything) versus through A itself (local hits). B is a fresh node for every peer run, so every
 * action result and blob comes from A over libp2p. Full run only.
 */
export const bazelCase: BenchCase = {
  name: 'bazel',
  keys: ['bazel_vs_disk_cache', 'bazel_peer_vs_local'],
  fullOnly: true,
  async run (ctx): Promise<Record<string, Figure>> {
    const missing = { value: null, note: 'bazel not installed (Debian bazel-bootstrap)' }
    if (!(await hasBazel())) return { bazel_vs_disk_cache: missing, bazel_peer_vs_local: missing }
    const fixture = join(ctx.tmpDir, 'fixture')
    await generateWorkspace(fixture, RULES)
    const ws = await prepareBazelWorkspace({ fixtureDir: fixture })
    const diskCache = join(ctx.tmpDir, 'disk-cache')
    const dataDir = join(ctx.tmpDir, 'node')
    await mkdir(dataDir, { recursive: true })
    const key = await benchTeamKey(ctx.tmpDir)
    const node = await startPeercas({ dataDir, args: ['--listen', '127.0.0.1:0'], p2p: true, psk: key.file, execArgv: profileArgs(ctx, 'bazel-node-a') })
    try {
      const remoteCache = `grpc://${node.tcp[0]!}`
      const cold = await bazelBuild(ws.workspaceDir, { remoteCache, diskCache })
      if (cold.exitCode !== 0) throw new Error(`cold build failed:\n${describeBazelResult(cold)}`)
      ctx.log(`  cold build of ${cold.totalActions} actions (filling both caches): ${round(cold.durationMs / 1000, 1)} s`)
      const runs = 2
      const disk: number[] = []
      const peercas: number[] = []
      const nodeCpu: number[] = []
      for (let r = 0; r < runs; r++) {
        await bazelClean(ws.workspaceDir)
        const d = await bazelBuild(ws.workspaceDir, { diskCache })
        if (!allHits(d)) throw new Error(`--disk_cache rebuild was not all cache hits:\n${describeBazelResult(d)}`)
        disk.push(d.durationMs)
        await bazelClean(ws.workspaceDir)
        const cpuBefore = await node.cpuMs()
        const p = await bazelBuild(ws.workspaceDir, { remoteCache })
        nodeCpu.push(await node.cpuMs() - cpuBefore)
        if (!allHits(p)) throw new Error(`peercas rebuild was not all cache hits:\n${describeBazelResult(p)}`)
        peercas.push(p.durationMs)
        ctx.log(`  run ${r + 1}/${runs}: warm rebuild with --disk_cache ${round(d.durationMs / 1000, 2)} s, through peercas ${round(p.durationMs / 1000, 2)} s (${p.remoteCacheHits} hits; the peercas node used ${round(nodeCpu.at(-1)! / 1000, 2)} s of CPU)`)
      }
      const local: number[] = []
      const peer: number[] = []
      for (let r = 0; r < runs; r++) {
        await bazelClean(ws.workspaceDir, { expunge: true })
        const l = await bazelBuild(ws.workspaceDir, { remoteCache })
        if (!allHits(l)) throw new Error(`local-hit rebuild was not all cache hits:\n${describeBazelResult(l)}`)
        local.push(l.durationMs)
        const peerDir = join(ctx.tmpDir, `node-b-${r}`)
        await mkdir(peerDir, { recursive: true })
        const b = await startPeercas({ dataDir: peerDir, args: ['--listen', '127.0.0.1:0', '--peer', node.p2p[0]!, '--trust-peer', node.peerId!], p2p: true, psk: key.file })
        try {
          await waitForSummary(b, node.peerId!)
          await bazelClean(ws.workspaceDir, { expunge: true })
          const p = await bazelBuild(ws.workspaceDir, { remoteCache: `grpc://${b.tcp[0]!}` })
          if (!allHits(p)) throw new Error(`peer-hit rebuild was not all cache hits:\n${describeBazelResult(p)}`)
          peer.push(p.durationMs)
        } finally {
          await b.stop()
          await rm(peerDir, { recursive: true, force: true })
        }
        ctx.log(`  run ${r + 1}/${runs}: rebuild after clean --expunge through node A (local hits) ${round(local.at(-1)! / 1000, 2)} s, through a fresh node B served by peer A ${round(peer.at(-1)! / 1000, 2)} s`)
      }
      const bestDisk = Math.min(...disk)
      const bestPeercas = Math.min(...peercas)
      ctx.detail.bazel = { rules: RULES, actions: cold.totalActions, coldMs: cold.durationMs, diskMs: disk, peercasMs: peercas, peercasNodeCpuMs: nodeCpu, expungeLocalMs: local, expungePeerMs: peer }
      return {
        bazel_vs_disk_cache: {
          value: round(bestPeercas / bestDisk),
          note: `each bazel command includes ~1 s of JVM start-up (--batch), in both terms; during the warm rebuild through peercas the node itself used ${round(Math.min(...nodeCpu) / 1000, 2)} s of CPU ` +
            `(of a ${round((bestPeercas - bestDisk) / 1000, 2)} s gap to --disk_cache): the rest is Bazel's own gRPC client work per action (GetActionResult, then one ByteStream.Read per output)`
        },
        bazel_peer_vs_local: { value: round(Math.min(...peer) / Math.min(...local)), note: `after bazel clean --expunge; ${cold.totalActions} actions; peer term: fresh node B trusting A (every action result and blob over libp2p), best of ${runs}` }
      }
    } finally {
      await node.stop()
      await ws.cleanup()
    }
  }
}

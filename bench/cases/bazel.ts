import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { profileArgs, type BenchCase, type Figure } from '../lib/case.js'
import { startPeercas, type PeercasProcess } from '../lib/peercas-process.js'
import { benchTeamKey } from '../lib/team-key.js'
import { round } from '../lib/stats.js'
import { createClients, unary } from '../../node/reapi/clients.js'
import { waitFor } from '../../test/helpers/wait.js'
import { hasBazel, prepareBazelWorkspace } from '../../test/helpers/bazel.js'
import { bazelServer, type ServerBuildInit, type ServerBuildResult } from '../lib/bazel-server.js'

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

function allHits (result: ServerBuildResult): boolean {
  return result.exitCode === 0 && result.totalActions > 0 && result.cacheHits === result.totalActions
}

/** The configurations a warm rebuild is measured in, by key part. */
const CONFIGS = ['disk_cache', 'peercas', 'disk_cache_peercas', 'peercas_minimal'] as const
type Config = typeof CONFIGS[number]

const KEYS = ['bazel_vs_disk_cache', 'bazel_peer_vs_local', ...CONFIGS.filter((c) => c !== 'disk_cache').map((c) => `bazel_${c}_vs_disk_cache`)]

/**
 * Bazel (Debian bazel-bootstrap) as users run it: one warm Bazel server (no `--batch`) rebuilding
 * a few hundred genrules after `bazel clean`, every action a cache hit, in four configurations —
 * `--disk_cache` alone, peercas alone (`--remote_cache`), both, and peercas with
 * `--remote_download_minimal` — interleaved, best of N each, as ratios to `--disk_cache` alone.
 * Then the same rebuild through a fresh node B that holds nothing and trusts node A (which built
 * everything), every action result and blob coming over libp2p, against through A (local hits).
 * Full run only, unless `--only` names it. With `--profile`, node B of each peer run is profiled too.
 */
export const bazelCase: BenchCase = {
  name: 'bazel',
  keys: KEYS,
  fullOnly: true,
  async run (ctx): Promise<Record<string, Figure>> {
    if (!(await hasBazel())) return Object.fromEntries(KEYS.map((k) => [k, { value: null, note: 'bazel not installed (Debian bazel-bootstrap)' }]))
    const fixture = join(ctx.tmpDir, 'fixture')
    await generateWorkspace(fixture, RULES)
    const ws = await prepareBazelWorkspace({ fixtureDir: fixture })
    const bazel = bazelServer(ws.workspaceDir, ws.outputUserRoot)
    const diskCache = join(ctx.tmpDir, 'disk-cache')
    const dataDir = join(ctx.tmpDir, 'node')
    await mkdir(dataDir, { recursive: true })
    const key = await benchTeamKey(ctx.tmpDir)
    const node = await startPeercas({ dataDir, args: ['--listen', '127.0.0.1:0'], p2p: true, psk: key.file, execArgv: profileArgs(ctx, 'bazel-node-a') })
    try {
      const remoteCache = `grpc://${node.tcp[0]!}`
      const flags: Record<Config, ServerBuildInit> = {
        disk_cache: { diskCache },
        peercas: { remoteCache },
        disk_cache_peercas: { remoteCache, diskCache },
        peercas_minimal: { remoteCache, extraArgs: ['--remote_download_minimal'] }
      }
      const cold = await bazel.build({ remoteCache, diskCache })
      if (cold.exitCode !== 0) throw new Error(`cold build failed:\n${cold.output.slice(-3000)}`)
      ctx.log(`  cold build of ${cold.totalActions} actions (filling both caches, starting the Bazel server): ${round(cold.durationMs / 1000, 1)} s`)
      const rebuild = async (config: Config): Promise<ServerBuildResult> => {
        await bazel.clean()
        const r = await bazel.build(flags[config])
        if (!allHits(r)) throw new Error(`warm rebuild (${config}) was not all cache hits (${r.cacheHits} of ${r.totalActions}):\n${r.output.slice(-3000)}`)
        return r
      }
      // Warm the server's JIT on every configuration's path before measuring.
      for (const config of CONFIGS) await rebuild(config)
      const runs = ctx.quick ? 2 : 4
      const times: Record<Config, number[]> = { disk_cache: [], peercas: [], disk_cache_peercas: [], peercas_minimal: [] }
      const nodeCpu: number[] = []
      for (let r = 0; r < runs; r++) {
        const order = r % 2 === 0 ? CONFIGS : [...CONFIGS].reverse()
        for (const config of order) {
          const cpuBefore = await node.cpuMs()
          times[config].push((await rebuild(config)).durationMs)
          if (config === 'peercas') nodeCpu.push(await node.cpuMs() - cpuBefore)
        }
        ctx.log(`  run ${r + 1}/${runs}: ${CONFIGS.map((c) => `${c} ${round(times[c].at(-1)! / 1000, 2)} s`).join(', ')}`)
      }
      const best = (c: Config): number => Math.min(...times[c])
      const local: number[] = []
      const peer: number[] = []
      // CPU of both nodes per peer-hit rebuild: steadier than wall time on a shared machine.
      const peerCpu: Array<{ a: number, b: number }> = []
      for (let r = 0; r < runs; r++) {
        local.push((await rebuild('peercas')).durationMs)
        const peerDir = join(ctx.tmpDir, `node-b-${r}`)
        await mkdir(peerDir, { recursive: true })
        const b = await startPeercas({ dataDir: peerDir, args: ['--listen', '127.0.0.1:0', '--peer', node.p2p[0]!, '--trust-peer', node.peerId!], p2p: true, psk: key.file, execArgv: profileArgs(ctx, `bazel-node-b-${r}`) })
        try {
          await waitForSummary(b, node.peerId!)
          await bazel.clean()
          const cpuBefore = { a: await node.cpuMs(), b: await b.cpuMs() }
          const p = await bazel.build({ remoteCache: `grpc://${b.tcp[0]!}` })
          peerCpu.push({ a: round(await node.cpuMs() - cpuBefore.a, 0), b: round(await b.cpuMs() - cpuBefore.b, 0) })
          if (!allHits(p)) throw new Error(`peer-hit rebuild was not all cache hits (${p.cacheHits} of ${p.totalActions}):\n${p.output.slice(-3000)}`)
          peer.push(p.durationMs)
        } finally {
          await b.stop()
          await rm(peerDir, { recursive: true, force: true })
        }
        ctx.log(`  run ${r + 1}/${runs}: rebuild through node A (local hits) ${round(local.at(-1)! / 1000, 2)} s, through a fresh node B served by peer A ${round(peer.at(-1)! / 1000, 2)} s (CPU: node B ${peerCpu.at(-1)!.b} ms, node A ${peerCpu.at(-1)!.a} ms)`)
      }
      ctx.detail.bazel = { rules: RULES, actions: cold.totalActions, mode: 'Bazel server, warmed', coldMs: round(cold.durationMs, 0), ...Object.fromEntries(CONFIGS.map((c) => [`${c}Ms`, times[c].map((v) => round(v, 0))])), peercasNodeCpuMs: nodeCpu, localHitMs: local.map((v) => round(v, 0)), peerHitMs: peer.map((v) => round(v, 0)), peerHitNodeCpuMs: peerCpu }
      const ratio = (c: Config): Figure => ({ value: round(best(c) / best('disk_cache')), note: `Bazel server (warm), ${cold.totalActions} actions all hits after bazel clean; best of ${runs}: ${round(best(c) / 1000, 2)} s vs ${round(best('disk_cache') / 1000, 2)} s` })
      return {
        bazel_vs_disk_cache: { ...ratio('peercas'), note: `same as bazel_peercas_vs_disk_cache (peercas alone); the node used ${round(Math.min(...nodeCpu) / 1000, 2)} s of CPU per rebuild` },
        bazel_peercas_vs_disk_cache: ratio('peercas'),
        bazel_disk_cache_peercas_vs_disk_cache: ratio('disk_cache_peercas'),
        bazel_peercas_minimal_vs_disk_cache: ratio('peercas_minimal'),
        bazel_peer_vs_local: { value: round(Math.min(...peer) / Math.min(...local)), note: `Bazel server (warm), after bazel clean; peer term: fresh node B trusting A (every action result and blob over libp2p), best of ${runs}` }
      }
    } finally {
      await bazel.shutdown().catch(() => {})
      await node.stop()
      await ws.cleanup()
    }
  }
}

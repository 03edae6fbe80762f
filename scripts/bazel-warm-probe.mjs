// Experiment: one peercas node (p2p on, loopback) and the bench's 300-genrule Bazel workspace;
// a cold build, then `rebuilds` warm rebuilds after `bazel clean`, printing the node's pid and
// its CPU per rebuild. WAIT_S seconds of pause before each warm rebuild (to attach strace/perf).
// Build first: npm run build && npx tsc -p bench/tsconfig.json. Run: node_modules/.bin/node scripts/bazel-warm-probe.mjs [rebuilds]
// P2P=0 starts the node without p2p; NODE_EXTRA="--flags" passes Node flags to it.
import { mkdtemp, rm, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateWorkspace } from '../dist/bench/cases/bazel.js'
import { startPeercas } from '../dist/bench/lib/peercas-process.js'
import { bazelBuild, bazelClean, prepareBazelWorkspace } from '../dist/test/helpers/bazel.js'

const rebuilds = Number(process.argv[2] ?? 2)
const waitS = Number(process.env.WAIT_S ?? 0)
const tmp = await mkdtemp(join(tmpdir(), 'peercas-bzprobe-'))
await generateWorkspace(join(tmp, 'fixture'), 300)
const ws = await prepareBazelWorkspace({ fixtureDir: join(tmp, 'fixture') })
await mkdir(join(tmp, 'node'))
const node = await startPeercas({ dataDir: join(tmp, 'node'), args: ['--listen', '127.0.0.1:0'], p2p: process.env.P2P !== '0', execArgv: (process.env.NODE_EXTRA ?? '').split(' ').filter(Boolean) })
console.log(`node pid ${node.pid}`)
const remoteCache = `grpc://${node.tcp[0]}`
const cold = await bazelBuild(ws.workspaceDir, { remoteCache })
console.log(`cold ${cold.durationMs} ms`)
for (let r = 0; r < rebuilds; r++) {
  await bazelClean(ws.workspaceDir)
  if (waitS > 0) { console.log('rebuild starts in', waitS, 's'); await new Promise((resolve) => setTimeout(resolve, waitS * 1000)) }
  const before = await node.cpuMs()
  const warm = await bazelBuild(ws.workspaceDir, { remoteCache })
  console.log(`warm ${r + 1}: ${warm.durationMs} ms, ${warm.remoteCacheHits} hits, node CPU ${await node.cpuMs() - before} ms`)
}
await node.stop()
await ws.cleanup()
await rm(tmp, { recursive: true, force: true })

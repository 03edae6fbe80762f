// Experiment: the node's side of a Bazel warm rebuild without Bazel. 300 actions with Bazel-bench
// output sizes (70% 1-16 KiB, 25% 64 KiB-1 MiB, 5% 4-16 MiB); each pass does, `jobs` at a time,
// GetActionResult then ByteStream.Read of the output over loopback TCP. Prints wall and node CPU.
// Run: npm run build && node_modules/.bin/node scripts/warm-rebuild-sim.mjs [passes] [jobs] [--prof DIR]
// Env: P2P=1 runs the node with p2p on (loopback, no mDNS); PACE_MS=n waits n ms before each action;
// COLD_LIKE_BAZEL=1 fills the cache the way a Bazel cold build does; NODE_EXTRA="--flags"; SHOW=1 echoes the node's stdout.
import { spawn } from 'node:child_process'
import { randomFillSync, createHash } from 'node:crypto'
import { mkdtemp, rm, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { createClients, byteStreamUpload, byteStreamRead, unary } from '../dist/node/reapi/clients.js'
import { PEERCAS_NODE_FLAGS } from '../dist/node/cli/runtime-flags.js'

const passes = Number(process.argv[2] ?? 4)
const jobs = Number(process.argv[3] ?? 2)
const profIdx = process.argv.indexOf('--prof')
const prof = profIdx > 0 ? ['--cpu-prof', `--cpu-prof-dir=${process.argv[profIdx + 1]}`] : []
const dir = await mkdtemp(join(tmpdir(), 'peercas-wr-'))
const node = spawn(process.execPath, [...prof, ...(process.env.NODE_EXTRA ?? '').split(' ').filter(Boolean), ...PEERCAS_NODE_FLAGS, 'bin/peercas.js', 'serve', '--data-dir', dir, ...(process.env.P2P ? ['--p2p-listen', '/ip4/127.0.0.1/tcp/0'] : ['--no-p2p']), '--no-mdns', '--log-level', 'warn', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] })
let out = ''
node.stdout.on('data', (c) => { out += c; if (process.env.SHOW) process.stderr.write(c) })
while (!/listening on 127\.0\.0\.1:\d+|tcp.*127\.0\.0\.1:\d+/.test(out) || !out.includes('peercas ready')) await once(node.stdout, 'data')
const port = /127\.0\.0\.1:(\d+)/.exec(out)[1]
const clients = createClients(`127.0.0.1:${port}`)
const sha = (b) => createHash('sha256').update(b).digest('hex')
let seed = 12345
const random = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
const actions = []
for (let i = 0; i < 300; i++) {
  const r = random()
  const size = r < 0.7 ? 1024 + Math.floor(random() * 15 * 1024) : r < 0.95 ? 65536 + Math.floor(random() * 960 * 1024) : 4 * 1048576 + Math.floor(random() * 12 * 1048576)
  const data = Buffer.allocUnsafe(size); randomFillSync(data)
  const output = { hash: sha(data), sizeBytes: size }
  const action = { hash: sha(Buffer.from(`action ${i} ${process.pid}`)), sizeBytes: 10 }
  if (process.env.COLD_LIKE_BAZEL) {
    await unary(clients.actionCache.GetActionResult.bind(clients.actionCache), { actionDigest: action }).catch(() => {})
    const extra = [Buffer.from(`stdout ${i}`), Buffer.from(`stderr ${i}`)]
    await unary(clients.cas.FindMissingBlobs.bind(clients.cas), { blobDigests: [output, ...extra.map((b) => ({ hash: sha(b), sizeBytes: b.length }))] })
    for (const b of extra) await byteStreamUpload(clients.byteStream, { hash: sha(b), sizeBytes: b.length }, b, { chunkBytes: 16 * 1024 })
  }
  await byteStreamUpload(clients.byteStream, output, data, { chunkBytes: 16 * 1024 })
  await unary(clients.actionCache.UpdateActionResult.bind(clients.actionCache), { actionDigest: action, actionResult: { outputFiles: [{ path: `r${i}.out`, digest: output }], exitCode: 0 } })
  actions.push(action)
}
const cpu = async () => { const f = (await readFile(`/proc/${node.pid}/stat`, 'utf8')).split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]) }
for (let p = 0; p < passes; p++) {
  const c0 = await cpu()
  const t = performance.now()
  let next = 0
  let bytes = 0
  await Promise.all(Array.from({ length: jobs }, async () => {
    while (next < actions.length) {
      const action = actions[next++]
      if (process.env.PACE_MS) await new Promise((resolve) => setTimeout(resolve, Number(process.env.PACE_MS)))
      const result = await unary(clients.actionCache.GetActionResult.bind(clients.actionCache), { actionDigest: action })
      for (const f of result.outputFiles) for await (const m of byteStreamRead(clients.byteStream, f.digest)) bytes += m.data.length
    }
  }))
  const ms = performance.now() - t
  console.log(`pass ${p + 1}: ${ms.toFixed(0)} ms, ${(bytes / 1e6).toFixed(0)} MB, node CPU ${((await cpu()) - c0) * 10} ms`)
}
clients.close()
node.kill('SIGTERM')
await once(node, 'exit')
await rm(dir, { recursive: true, force: true })

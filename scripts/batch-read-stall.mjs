// Measures how long one large BatchReadBlobs of mostly-missing digests takes and how much it
// delays a one-digest FindMissingBlobs from another client. Usage:
//   node scripts/batch-read-stall.mjs [digests=10000] [concurrent=1]
// Starts `peercas serve --no-p2p` on a temp data dir (build first: npm run build).
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { createClients } from '../dist/node/reapi/clients.js'

const count = Number(process.argv[2] ?? 10_000)
const concurrent = Number(process.argv[3] ?? 1)
const dir = mkdtempSync(join(tmpdir(), 'peercas-stall-'))
const socket = join(dir, 'cas.sock')
const child = spawn(process.execPath, [...(process.env.PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.PROF_DIR] : []), '--initial-old-space-size=128', 'bin/peercas.js', 'serve', '--data-dir', dir, '--no-p2p', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'inherit'] })
await new Promise((resolve) => { let out = ''; child.stdout.on('data', (c) => { out += c; if (out.includes('ready') || out.length > 0) resolve() }); setTimeout(resolve, 3000) })
for (let i = 0; i < 100; i++) { try { readFileSync(join(dir, 'node.json')); break } catch { await new Promise((r) => setTimeout(r, 50)) } }
const rss = () => { try { return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024 } catch { return NaN } }
const big = createClients(`unix:${socket}`)
const small = createClients(`unix:${socket}`)
const unary = (client, method, req) => new Promise((resolve, reject) => client[method](req, (e, r) => e ? reject(e) : resolve(r)))
const one = { hash: randomBytes(32).toString('hex'), sizeBytes: 10 }
// Warm up both channels.
await unary(small.cas, 'FindMissingBlobs', { blobDigests: [one] })
await unary(big.cas, 'FindMissingBlobs', { blobDigests: [one] })
const baseline = []
for (let i = 0; i < 50; i++) { const t = performance.now(); await unary(small.cas, 'FindMissingBlobs', { blobDigests: [one] }); baseline.push(performance.now() - t) }
const digests = () => Array.from({ length: count }, () => ({ hash: randomBytes(32).toString('hex'), sizeBytes: 1 + Math.floor(Math.random() * 60) }))
// The prober runs in its own process: this one is busy encoding and decoding big messages.
const proberCode = `
  const { createClients } = await import(${JSON.stringify(new URL('../dist/node/reapi/clients.js', import.meta.url).href)})
  const c = createClients(${JSON.stringify('unix:' + socket)})
  const one = ${JSON.stringify(one)}
  const call = () => new Promise((resolve, reject) => c.cas.FindMissingBlobs({ blobDigests: [one] }, (e, r) => e ? reject(e) : resolve(r)))
  await call()
  process.stdout.write('ready\\n')
  const lat = []
  process.on('SIGTERM', () => { process.stdout.write(JSON.stringify(lat) + '\\n'); process.exit(0) })
  for (;;) { const t = performance.now(); await call(); lat.push(performance.now() - t); await new Promise((r) => setTimeout(r, 5)) }
`
const prober = spawn(process.execPath, ['--input-type=module', '-e', proberCode], { stdio: ['ignore', 'pipe', 'inherit'] })
let proberOut = ''
prober.stdout.on('data', (c) => { proberOut += c })
while (!proberOut.includes('ready')) await new Promise((r) => setTimeout(r, 20))
const requests = Array.from({ length: concurrent }, () => ({ digests: digests() }))
const t0 = performance.now()
const results = await Promise.all(requests.map(async (request) => {
  try { const r = await unary(big.cas, 'BatchReadBlobs', request); return `OK ${r.responses.length}` } catch (e) { return `${e.code} ${String(e.details).slice(0, 100)}` }
}))
const elapsed = performance.now() - t0
prober.kill('SIGTERM')
await new Promise((r) => prober.once('exit', r))
const lat = JSON.parse(proberOut.slice(proberOut.indexOf('\n') + 1))
const max = (a) => Math.max(...a).toFixed(1)
const p50 = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)].toFixed(1)
console.log(JSON.stringify({ digests: count, concurrent, elapsedMs: Math.round(elapsed), results: [...new Set(results)], findMissingBaselineMaxMs: Number(max(baseline)), findMissingDuringP50Ms: Number(p50(lat)), findMissingDuringMaxMs: Number(max(lat)), probes: lat.length, peakRssMiB: Math.round(rss()) }))
big.close(); small.close()
child.kill('SIGTERM')
await new Promise((r) => child.once('exit', r))
rmSync(dir, { recursive: true, force: true })

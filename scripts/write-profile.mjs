// Experiment: consecutive 256 MB ByteStream.Writes to a node in another process, with the node's
// user/system CPU per write from /proc. Run: npm run build && node_modules/.bin/node scripts/write-profile.mjs [runs] [--prof DIR]
import { spawn } from 'node:child_process'
import { randomFillSync, createHash } from 'node:crypto'
import { mkdtemp, rm, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { createClients, byteStreamUpload } from '../dist/node/reapi/clients.js'
import { PEERCAS_NODE_FLAGS } from '../dist/node/cli/runtime-flags.js'

const runs = Number(process.argv[2] ?? 4)
const profIdx = process.argv.indexOf('--prof')
const prof = profIdx > 0 ? ['--cpu-prof', `--cpu-prof-dir=${process.argv[profIdx + 1]}`] : []
const dir = await mkdtemp(join(tmpdir(), 'peercas-wp-'))
const node = spawn(process.execPath, [...prof, ...PEERCAS_NODE_FLAGS, 'bin/peercas.js', 'serve', '--data-dir', dir, '--no-p2p', '--no-mdns', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] })
let out = ''
node.stdout.on('data', (c) => { out += c })
while (!out.includes('peercas ready')) await once(node.stdout, 'data')
const clients = createClients(`unix:${join(dir, 'cas.sock')}`)
const size = 256 * 1024 * 1024
const data = Buffer.allocUnsafe(size)
randomFillSync(data)
const cpu = async () => { const f = (await readFile(`/proc/${node.pid}/stat`, 'utf8')).split(') ')[1].split(' '); return [Number(f[11]) / 100, Number(f[12]) / 100, Number(f[7])] }
for (let r = 0; r < runs; r++) {
  data.writeDoubleLE(Math.random(), 0)
  const digest = { hash: createHash('sha256').update(data).digest('hex'), sizeBytes: size }
  const [u0, s0, m0] = await cpu()
  const t = performance.now()
  await byteStreamUpload(clients.byteStream, digest, data, { chunkBytes: 1024 * 1024 })
  const ms = performance.now() - t
  const [u1, s1, m1] = await cpu()
  console.log(`write ${r + 1}: ${(size / 1e6 / (ms / 1000)).toFixed(0)} MB/s  node user ${(u1 - u0).toFixed(2)} s sys ${(s1 - s0).toFixed(2)} s  wall ${(ms / 1000).toFixed(2)} s minflt ${m1 - m0}`)
}
clients.close()
node.kill('SIGTERM')
await once(node, 'exit')
await rm(dir, { recursive: true, force: true })

// Measures ByteStream.Write and ByteStream.Read of one blob over the unix socket, with the node
// in another process. Run: npm run build && node_modules/.bin/node scripts/bytestream-throughput.mjs [MB]
import { spawn } from 'node:child_process'
import { randomBytes, createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { createClients, byteStreamUpload, byteStreamRead } from '../dist/node/reapi/clients.js'
import { PEERCAS_NODE_FLAGS } from '../dist/node/cli/runtime-flags.js'

const mb = Number(process.argv[2] ?? 100)
const dir = await mkdtemp(join(tmpdir(), 'peercas-tp-'))
const node = spawn(process.execPath, [...PEERCAS_NODE_FLAGS, 'bin/peercas.js', 'serve', '--data-dir', dir, '--no-p2p', '--no-mdns', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] })
let out = ''
node.stdout.on('data', (c) => { out += c })
while (!out.includes('peercas ready')) await once(node.stdout, 'data')
const clients = createClients(`unix:${join(dir, 'cas.sock')}`)
const data = randomBytes(mb * 1024 * 1024)
const digest = { hash: createHash('sha256').update(data).digest('hex'), sizeBytes: data.length }
let t = performance.now()
await byteStreamUpload(clients.byteStream, digest, data, { chunkBytes: 1024 * 1024 })
const writeS = (performance.now() - t) / 1000
t = performance.now()
let got = 0
for await (const m of byteStreamRead(clients.byteStream, digest)) got += m.data.length
const readS = (performance.now() - t) / 1000
if (got !== data.length) throw new Error('short read')
console.log(`ByteStream ${mb} MB over the unix socket: write ${(mb / writeS).toFixed(0)} MB/s, read ${(mb / readS).toFixed(0)} MB/s`)
clients.close()
node.kill('SIGTERM')
await once(node, 'exit')
await rm(dir, { recursive: true, force: true })

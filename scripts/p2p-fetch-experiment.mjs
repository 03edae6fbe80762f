// Experiment: one serving peer (peercas serve) and a fetching worker; prints both pids, waits
// `delayS`, then runs `runs` 200 MB fetches with per-process CPU from /proc.
// Build first: npm run build && npx tsc -p bench/tsconfig.json. Run: node_modules/.bin/node scripts/p2p-fetch-experiment.mjs [runs] [delayS]
// PROF_DIR=dir writes a CPU profile of both processes there (summarise: node dist/bench/profile-summary.js FILE).
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startPeercas } from '../dist/bench/lib/peercas-process.js'
import { startWorker } from '../dist/bench/lib/worker.js'

const runs = Number(process.argv[2] ?? 4)
const delayS = Number(process.argv[3] ?? 0)
const dir = await mkdtemp(join(tmpdir(), 'peercas-p2pexp-'))
const prof = process.env.PROF_DIR ? (n) => ['--cpu-prof', `--cpu-prof-dir=${process.env.PROF_DIR}`, `--cpu-prof-name=${n}.cpuprofile`] : () => []
const fetcher = await startWorker('p2p-fetcher', { execArgv: prof('fetcher') })
const { digests } = await fetcher.call('seed', { dirs: [dir], sizes: [200_000_000] })
const peer = await startPeercas({ dataDir: dir, p2p: true, maxSize: '8GiB', execArgv: prof('server') })
console.log(`server ${peer.pid} fetcher ${fetcher.pid}`)
await new Promise((resolve) => setTimeout(resolve, delayS * 1000))
const cpu = async (pid) => { const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' '); return [Number(f[11]) / 100, Number(f[12]) / 100] }
for (let r = 0; r < runs; r++) {
  const [su0, ss0] = await cpu(peer.pid); const [fu0, fs0] = await cpu(fetcher.pid)
  const { ms } = await fetcher.call('fetch', { peers: [peer.p2p[0]], digests })
  const [su1, ss1] = await cpu(peer.pid); const [fu1, fs1] = await cpu(fetcher.pid)
  console.log(`fetch ${r + 1}: ${(200 / (ms[0] / 1000)).toFixed(0)} MB/s; server user ${(su1 - su0).toFixed(2)} sys ${(ss1 - ss0).toFixed(2)}; fetcher user ${(fu1 - fu0).toFixed(2)} sys ${(fs1 - fs0).toFixed(2)} (incl. node start/stop)`)
}
await fetcher.call('close').catch(() => {})
await fetcher.stop()
await peer.stop()
await rm(dir, { recursive: true, force: true })

// `node dist/bench/profile-summary.js FILE.cpuprofile [N]`: the N functions with the most self
// time in a V8 CPU profile (as written by `node --cpu-prof`, or `npm run bench -- --profile DIR`).
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number }, hitCount?: number, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

/** One row of {@link summarizeProfile}. */
export interface ProfileRow { fn: string, selfMs: number, percent: number }

/** Self time per function (summed over call sites), largest first. */
export function summarizeProfile (profile: CpuProfile, top = 20): ProfileRow[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => { self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)) })
  const totals = new Map<string, number>()
  let all = 0
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame
    const where = frame.url === '' ? '' : ` ${basename(frame.url)}:${frame.lineNumber + 1}`
    const key = `${frame.functionName === '' ? '(anonymous)' : frame.functionName}${where}`
    totals.set(key, (totals.get(key) ?? 0) + us)
    all += us
  }
  return [...totals].sort((a, b) => b[1] - a[1]).slice(0, top).map(([fn, us]) => ({ fn, selfMs: Math.round(us / 1000), percent: Math.round((us / all) * 1000) / 10 }))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as CpuProfile
  for (const row of summarizeProfile(profile, Number(process.argv[3] ?? 25))) {
    process.stdout.write(`${String(row.selfMs).padStart(7)} ms ${String(row.percent).padStart(5)}%  ${row.fn}\n`)
  }
}

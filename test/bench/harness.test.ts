// Smoke test of the benchmark harness (bench/): it compiles, runs a few cheap cases in --quick
// mode, and its last line is a JSON object carrying every key, as a value or null.
import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const KEYS = [
  'write_vs_grpc_baseline', 'read_vs_grpc_baseline', 'write_vs_sha256', 'batch_update_1k_per_s',
  'find_missing_10k_ms', 'peer_fetch_vs_libp2p', 'two_peer_speedup', 'startup_1m_s', 'rss_1m_mb',
  'summary_fp_rate', 'bazel_vs_disk_cache', 'bazel_peer_vs_local'
]

describe('bench harness', () => {
  it('prints every key of the JSON line, measured or null with a reason', () => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'bench', 'tsconfig.json')], { cwd: ROOT, stdio: 'pipe' })
    const output = execFileSync(process.execPath, [join(ROOT, 'dist', 'bench', 'run.js'), '--quick', '--no-docs', '--only', 'find-missing,summary'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
    const lines = output.trim().split('\n')
    const json = JSON.parse(lines.at(-1)!) as Record<string, unknown> & { notes: Record<string, string> }
    for (const key of KEYS) {
      expect(json, `key ${key}`).toHaveProperty(key)
      const value = json[key]
      if (value === null) expect(json.notes[key], `null ${key} needs a reason`).toBeTruthy()
      else expect(typeof value).toBe('number')
    }
    expect(json.find_missing_10k_ms).toBeGreaterThan(0)
    expect(json.summary_fp_rate).toBeGreaterThan(0)
    expect(json.summary_fp_rate).toBeLessThanOrEqual(0.01)
    expect(json.peer_fetch_vs_libp2p).toBeNull()
    expect(json.notes.peer_fetch_vs_libp2p).toBe('case p2p not selected (--only)')
    expect(lines.some((line) => line.startsWith('[find-missing]'))).toBe(true)
  }, 90_000)
})

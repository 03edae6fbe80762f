import { spawn } from 'node:child_process'
import { BAZEL_BIN, BAZEL_COMMON_BUILD_ARGS, bazelStartupArgs, parseProcessSummary } from '../../test/helpers/bazel.js'

/** One `bazel build` through a {@link BazelServer}. */
export interface ServerBuildResult {
  exitCode: number
  durationMs: number
  totalActions: number
  cacheHits: number
  output: string
}

/** Options of one build: which caches, and extra flags. */
export interface ServerBuildInit {
  remoteCache?: string
  diskCache?: string
  extraArgs?: string[]
}

/**
 * Bazel as users run it: one server (no `--batch`) per workspace, kept warm across commands, with
 * the test helpers' hermetic startup options otherwise (no rc files, private output root).
 */
export interface BazelServer {
  build(init: ServerBuildInit): Promise<ServerBuildResult>
  /** `bazel clean` (the server stays up). */
  clean(): Promise<void>
  /** `bazel shutdown`. */
  shutdown(): Promise<void>
}

/** Starts nothing yet: the first command starts the server. */
export function bazelServer (workspaceDir: string, outputUserRoot: string): BazelServer {
  const startup = [...bazelStartupArgs(outputUserRoot).filter((a) => a !== '--batch'), '--max_idle_secs=600']
  const env: NodeJS.ProcessEnv = { ...process.env, no_proxy: '127.0.0.1,localhost,::1', NO_PROXY: '127.0.0.1,localhost,::1' }
  for (const name of ['TEST_TMPDIR', 'USE_BAZEL_VERSION', 'BAZELISK_HOME', 'GRPC_PROXY_EXP', 'BAZEL_REAL']) delete env[name]
  const run = async (args: string[]): Promise<{ exitCode: number, durationMs: number, output: string }> => {
    const started = performance.now()
    const child = spawn(BAZEL_BIN, [...startup, ...args], { cwd: workspaceDir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (b: Buffer) => { output += b.toString('utf8') })
    child.stderr.on('data', (b: Buffer) => { output += b.toString('utf8') })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, 300_000)
    const exitCode = await new Promise<number>((resolve, reject) => { child.once('close', (code) => { resolve(code ?? -1) }); child.once('error', reject) })
    clearTimeout(timer)
    return { exitCode, durationMs: performance.now() - started, output }
  }
  return {
    async build ({ remoteCache, diskCache, extraArgs = [] }) {
      const args = ['build', ...BAZEL_COMMON_BUILD_ARGS]
      if (remoteCache !== undefined) args.push(`--remote_cache=${remoteCache}`, '--remote_timeout=60', '--remote_upload_local_results', '--remote_accept_cached')
      // The flags stay the same in every build (empty = off), so switching configuration never
      // discards the server's analysis cache for an unrelated reason.
      else args.push('--remote_cache=')
      args.push(`--disk_cache=${diskCache ?? ''}`, ...extraArgs, '--', '//...')
      const r = await run(args)
      const summary = parseProcessSummary(r.output)
      return { ...r, totalActions: summary === undefined ? 0 : summary.total - summary.internal, cacheHits: summary?.remoteCacheHits ?? 0 }
    },
    async clean () {
      const r = await run(['clean', '--color=no', '--curses=no'])
      if (r.exitCode !== 0) throw new Error(`bazel clean failed: ${r.output.slice(-2000)}`)
    },
    async shutdown () {
      await run(['shutdown'])
    }
  }
}

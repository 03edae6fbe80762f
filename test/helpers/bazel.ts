// Helpers for driving a real Bazel (Debian's `bazel-bootstrap`, 4.2.3) from
// the end-to-end tests, hermetically and fully offline.
//
// Every workspace gets its own temp dir holding a copy of the fixture and a
// private `--output_user_root`; Bazel runs in `--batch` mode so no server
// outlives a command. rc files are ignored, so nothing on the machine (e.g.
// /etc/bazel.bazelrc, ~/.bazelrc) can change the flags.
//
// Notes on Debian's Bazel 4.2.3 (measured on the dev machine):
//   * /usr/bin/bazel is a wrapper script that execs /usr/bin/bazel-4.
//   * The client is not a self-extracting binary: without
//     `--install_base=/usr/share/bazel` it dies with
//     "Failed to open '/proc/self/exe' as a zip file". Debian puts that flag in
//     /etc/bazel/bazelrc, which Bazel 4 no longer reads (it warns about it), so
//     we pass it ourselves along with `--trust_install_base`.
//   * A cold build of the fixture takes ~2-3 s, `clean` ~1 s; each command pays
//     ~1 s of JVM start-up because of `--batch`.
//   * With a gRPC remote cache, Bazel 4.2.3 uses only GetCapabilities,
//     GetActionResult/UpdateActionResult, FindMissingBlobs and ByteStream
//     Read/Write (16 KiB chunks on upload); it never calls Batch*Blobs.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsConstants, existsSync } from 'node:fs';
import { access, cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Bazel binary the tests use (override with PEERCAS_BAZEL). */
export const BAZEL_BIN = process.env.PEERCAS_BAZEL ?? '/usr/bin/bazel';

/**
 * Debian's install base. Used only if it exists (an upstream, self-extracting
 * Bazel binary doesn't need it). Override with PEERCAS_BAZEL_INSTALL_BASE.
 */
export const BAZEL_INSTALL_BASE = process.env.PEERCAS_BAZEL_INSTALL_BASE ?? '/usr/share/bazel';

/** The fixture workspace copied for every test. */
export const BAZEL_FIXTURE_DIR = fileURLToPath(new URL('../e2e/fixtures/bazel-workspace/', import.meta.url));

/** Default per-command timeout. A command normally takes 1-4 s here. */
export const BAZEL_COMMAND_TIMEOUT_MS = 180_000;

/** True if the Bazel binary exists and is executable. */
export async function hasBazel(): Promise<boolean> {
  try {
    await access(BAZEL_BIN, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface BazelWorkspace {
  /** Temp dir holding everything below; removed by {@link BazelWorkspace.cleanup}. */
  rootDir: string;
  /** The copy of the fixture workspace (contains WORKSPACE). */
  workspaceDir: string;
  /** Private `--output_user_root` (outside the workspace). */
  outputUserRoot: string;
  /** Removes rootDir (including Bazel's read-only output tree). */
  cleanup(): Promise<void>;
}

/** workspaceDir -> outputUserRoot, for workspaces made by {@link prepareBazelWorkspace}. */
const outputRoots = new Map<string, string>();

/**
 * Copies the fixture (or `fixtureDir`) into a fresh temp dir and allocates a
 * private output user root next to it.
 */
export async function prepareBazelWorkspace(opts: { fixtureDir?: string } = {}): Promise<BazelWorkspace> {
  const fixtureDir = opts.fixtureDir ?? BAZEL_FIXTURE_DIR;
  // realpath: Bazel resolves the workspace path, keep ours identical.
  const rootDir = await realpath(await mkdtemp(path.join(tmpdir(), 'peercas-bazel-')));
  const workspaceDir = path.join(rootDir, 'workspace');
  const outputUserRoot = path.join(rootDir, 'output-user-root');
  await cp(fixtureDir, workspaceDir, { recursive: true });
  await mkdir(outputUserRoot, { recursive: true });
  outputRoots.set(workspaceDir, outputUserRoot);
  return {
    rootDir,
    workspaceDir,
    outputUserRoot,
    async cleanup() {
      outputRoots.delete(workspaceDir);
      await removeTree(rootDir);
    },
  };
}

/** `rm -rf` that also copes with Bazel's read-only files and directories. */
export async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    await run('chmod', ['-R', 'u+w', dir], { cwd: tmpdir(), timeoutMs: 60_000 }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

export interface BazelCommandOptions {
  /** Defaults to the one allocated by {@link prepareBazelWorkspace}. */
  outputUserRoot?: string;
  /** Extra arguments appended after the defaults (later flags win). */
  extraArgs?: string[];
  /** Per-command timeout; the process group is SIGKILLed when it expires. */
  timeoutMs?: number;
}

export interface BazelBuildOptions extends BazelCommandOptions {
  /** e.g. `grpc://127.0.0.1:40123` (a bare `host:port` gets `grpc://` prepended). */
  remoteCache?: string;
  /** Local `--disk_cache` directory (for validating the setup without a server). */
  diskCache?: string;
  /** Seconds; `--remote_timeout`. Default 60. */
  remoteTimeoutSeconds?: number;
  /** Targets to build; default `//...`. */
  targets?: string[];
}

export interface ProcessSummary {
  /** N in "INFO: N processes: ...". */
  total: number;
  /** Processes Bazel runs in-process (symlinks, workspace status, ...). */
  internal: number;
  /** "remote cache hit" (Bazel 4 also reports --disk_cache hits this way). */
  remoteCacheHits: number;
  /** Every "<count> <kind>" entry, e.g. { 'remote cache hit': 14, internal: 1 }. */
  byKind: Record<string, number>;
}

export interface BazelResult {
  exitCode: number;
  /** Set if the process was killed by a signal (e.g. on timeout). */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** The full argv (after the binary) that was run. */
  args: string[];
}

export interface BazelBuildResult extends BazelResult {
  /** Remote (or disk) cache hits from the process summary; 0 if no summary. */
  remoteCacheHits: number;
  /** Non-internal processes (total - internal); 0 if no summary. */
  totalActions: number;
  /** Parsed process summary, undefined if Bazel printed none. */
  summary: ProcessSummary | undefined;
}

/**
 * Startup options: hermetic (no rc files), batch mode (no lingering server),
 * private output root, and Debian's install base.
 */
export function bazelStartupArgs(outputUserRoot: string): string[] {
  const args = [
    '--batch',
    '--nosystem_rc',
    '--nohome_rc',
    '--noworkspace_rc',
    `--output_user_root=${outputUserRoot}`,
  ];
  if (existsSync(path.join(BAZEL_INSTALL_BASE, 'A-server.jar'))) {
    args.push(`--install_base=${BAZEL_INSTALL_BASE}`, '--trust_install_base');
  }
  return args;
}

/** Build options that make Bazel 4.2.3 work offline and keep output parseable. */
export const BAZEL_COMMON_BUILD_ARGS: readonly string[] = [
  // Plain, non-interactive output so the summary is easy to parse.
  '--color=no',
  '--curses=no',
  '--show_progress_rate_limit=5',
  '--verbose_failures',
  // Never download: fail fast instead of hanging if anything tries to.
  // (`--nofetch` can't be used: it also refuses to set up @bazel_tools.)
  '--experimental_repository_disable_download',
  // Run genrules directly: linux-sandbox needs namespaces that CI
  // containers may not grant. Remote caching works the same way.
  '--spawn_strategy=local',
  // Fixed PATH for actions so action keys don't depend on the runner's PATH.
  '--incompatible_strict_action_env',
  '--nobuild_runfile_links',
];

/** Runs `bazel build` in `workspaceDir` and parses the process summary. */
export async function bazelBuild(workspaceDir: string, opts: BazelBuildOptions = {}): Promise<BazelBuildResult> {
  const args = ['build', ...BAZEL_COMMON_BUILD_ARGS];
  if (opts.remoteCache !== undefined) {
    const url = /^[a-z]+:\/\//.test(opts.remoteCache) ? opts.remoteCache : `grpc://${opts.remoteCache}`;
    args.push(
      `--remote_cache=${url}`,
      `--remote_timeout=${opts.remoteTimeoutSeconds ?? 60}`,
      '--remote_upload_local_results',
      '--remote_accept_cached',
      '--remote_download_outputs=all',
      '--remote_verify_downloads',
    );
  }
  if (opts.diskCache !== undefined) args.push(`--disk_cache=${opts.diskCache}`);
  args.push(...(opts.extraArgs ?? []));
  args.push('--', ...(opts.targets ?? ['//...']));
  const result = await bazel(workspaceDir, args, opts);
  const summary = parseProcessSummary(result.stderr) ?? parseProcessSummary(result.stdout);
  return {
    ...result,
    summary,
    remoteCacheHits: summary?.remoteCacheHits ?? 0,
    totalActions: summary ? summary.total - summary.internal : 0,
  };
}

/** `bazel clean` (or `clean --expunge`). */
export async function bazelClean(
  workspaceDir: string,
  opts: BazelCommandOptions & { expunge?: boolean } = {},
): Promise<BazelResult> {
  const args = ['clean', '--color=no', '--curses=no'];
  if (opts.expunge) args.push('--expunge');
  args.push(...(opts.extraArgs ?? []));
  return bazel(workspaceDir, args, opts);
}

/** Runs an arbitrary Bazel command with the hermetic startup options. */
export async function bazel(workspaceDir: string, commandArgs: string[], opts: BazelCommandOptions = {}): Promise<BazelResult> {
  const outputUserRoot = opts.outputUserRoot ?? outputRoots.get(workspaceDir);
  if (outputUserRoot === undefined) {
    throw new Error(
      `no output user root for ${workspaceDir}: create it with prepareBazelWorkspace() or pass outputUserRoot`,
    );
  }
  const args = [...bazelStartupArgs(outputUserRoot), ...commandArgs];
  return run(BAZEL_BIN, args, { cwd: workspaceDir, env: bazelEnv(), timeoutMs: opts.timeoutMs ?? BAZEL_COMMAND_TIMEOUT_MS });
}

/**
 * Parses the last "INFO: N processes: A remote cache hit, B internal, C local."
 * line (also "1 process: 1 internal." and "0 processes.").
 */
export function parseProcessSummary(output: string): ProcessSummary | undefined {
  const re = /^INFO: (\d+) process(?:es)?(?:: (.*?))?\.?\s*$/gm;
  let last: RegExpExecArray | undefined;
  for (let m = re.exec(output); m !== null; m = re.exec(output)) last = m;
  if (last === undefined) return undefined;
  const byKind: Record<string, number> = {};
  for (const part of (last[2] ?? '').split(',')) {
    const m = /^\s*(\d+) (.+?)\s*$/.exec(part);
    if (m) byKind[m[2]!] = (byKind[m[2]!] ?? 0) + Number(m[1]);
  }
  return {
    total: Number(last[1]),
    internal: byKind['internal'] ?? 0,
    remoteCacheHits: (byKind['remote cache hit'] ?? 0) + (byKind['disk cache hit'] ?? 0),
    byKind,
  };
}

/**
 * sha256 of every regular file under the workspace's `bazel-bin` (relative
 * path -> hex), to compare a cold build with a cache-served rebuild.
 */
export async function collectBazelOutputs(workspaceDir: string): Promise<Map<string, string>> {
  const root = await realpath(path.join(workspaceDir, 'bazel-bin'));
  const out = new Map<string, string>();
  async function walk(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        out.set(path.relative(root, full), createHash('sha256').update(await readFile(full)).digest('hex'));
      }
    }
  }
  await walk(root);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Size in bytes of one output under `bazel-bin`. */
export async function bazelOutputSize(workspaceDir: string, relPath: string): Promise<number> {
  return (await stat(path.join(workspaceDir, 'bazel-bin', relPath))).size;
}

/** Human-readable digest of a failed command, for assertion messages. */
export function describeBazelResult(result: BazelResult): string {
  const tail = (s: string) => s.split('\n').slice(-60).join('\n');
  return [
    `bazel ${result.args.join(' ')}`,
    `exit=${result.exitCode} signal=${result.signal ?? '-'} timedOut=${result.timedOut} ${result.durationMs} ms`,
    '--- stderr (tail) ---',
    tail(result.stderr),
    '--- stdout (tail) ---',
    tail(result.stdout),
  ].join('\n');
}

function bazelEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Would redirect the output root / pick another Bazel version / proxy gRPC.
  for (const name of ['TEST_TMPDIR', 'USE_BAZEL_VERSION', 'BAZELISK_HOME', 'GRPC_PROXY_EXP', 'BAZEL_REAL']) {
    delete env[name];
  }
  const noProxy = ['127.0.0.1', 'localhost', '::1'];
  for (const name of ['no_proxy', 'NO_PROXY']) {
    env[name] = [env[name], ...noProxy].filter(Boolean).join(',');
  }
  // The Debian client finds its JVM via JAVA_HOME or `javac` on PATH.
  const pathDirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) if (!pathDirs.includes(dir)) pathDirs.push(dir);
  env.PATH = pathDirs.join(path.delimiter);
  return env;
}

function run(
  file: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<BazelResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // detached: own process group, so a timeout can kill Bazel's children too.
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode: code ?? -1,
        signal,
        timedOut,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        durationMs: Date.now() - started,
        args,
      });
    });
  });
}

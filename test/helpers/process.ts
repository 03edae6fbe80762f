import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { PEERCAS_NODE_FLAGS } from '../../node/cli/runtime-flags.js'

/** The repo root. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The Node 22 binary npm installed (the system one may be older). */
export const NODE_BIN = process.execPath

/** Arguments that start the CLI the way its shebang does: Node flags, then bin/peercas.js. */
export const PEERCAS_ENTRY: readonly string[] = [...PEERCAS_NODE_FLAGS, 'bin/peercas.js']

/** A `peercas` child process. */
export interface PeercasProcess {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves when the node printed its ready line; rejects if it exits first. */
  ready: Promise<void>
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** Runs `peercas ARGS…` from the compiled CLI, with mDNS off unless the args say otherwise. */
export function runPeercas (args: string[], env: NodeJS.ProcessEnv = {}): PeercasProcess {
  const child = spawn(NODE_BIN, [...PEERCAS_ENTRY, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, PEERCAS_P2P_MDNS: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString() })
  child.stderr!.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }))
  const ready = new Promise<void>((resolve, reject) => {
    const check = (): void => { if (out.includes('peercas ready')) resolve() }
    child.stdout!.on('data', check)
    void exited.then(({ code, signal }) => { reject(new Error(`peercas exited (${code ?? signal}) before it was ready:\n${err}`)) })
  })
  // Callers that expect a failure never await `ready`; don't let that count as unhandled.
  ready.catch(() => {})
  return { child, stdout: () => out, stderr: () => err, ready, exited }
}

/** Runs a short `peercas` client command to completion. */
export async function peercas (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const p = runPeercas(args, env)
  const { code } = await p.exited
  return { code, stdout: p.stdout(), stderr: p.stderr() }
}

import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { workerScript } from './paths.js'

/** A request to a worker process: an operation name and its parameters. */
export interface WorkerRequest {
  id: number
  op: string
  params: unknown
}

/** A worker's answer to one {@link WorkerRequest}. */
export type WorkerResponse =
  | { id: number, ok: true, result: unknown }
  | { id: number, ok: false, error: string }

/** A benchmark helper running in its own process, driven over IPC. */
export interface WorkerHandle {
  readonly pid: number
  /** Runs `op` in the worker and resolves with its result. */
  call<T>(op: string, params?: unknown): Promise<T>
  /** Asks the worker to exit and waits for it. */
  stop(): Promise<void>
}

/** Options of {@link startWorker}. */
export interface StartWorkerInit {
  /** Extra Node flags, e.g. `--cpu-prof`. */
  execArgv?: string[]
  args?: string[]
  /** Run inside this network namespace (`ip netns exec`; see lib/netns.ts). */
  netns?: string
}

/**
 * Forks `dist/bench/workers/<name>.js` and waits for its `ready` message. The worker runs on
 * the same Node binary as the harness.
 */
export async function startWorker (name: string, init: StartWorkerInit = {}): Promise<WorkerHandle> {
  // In a namespace: `ip netns exec NS node …` execs Node with the IPC descriptor inherited.
  const inNetns = init.netns !== undefined ? { execPath: 'ip', execArgv: ['netns', 'exec', init.netns, process.execPath, ...(init.execArgv ?? [])] } : { execArgv: init.execArgv ?? [] }
  const child: ChildProcess = fork(workerScript(name), init.args ?? [], {
    ...inNetns,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced'
  })
  const pending = new Map<number, { resolve: (value: unknown) => void, reject: (error: Error) => void }>()
  let nextId = 1
  let exited = false
  child.on('message', (message: WorkerResponse | { ready: true }) => {
    if ('ready' in message) return
    const waiter = pending.get(message.id)
    if (waiter === undefined) return
    pending.delete(message.id)
    if (message.ok) waiter.resolve(message.result); else waiter.reject(new Error(`worker ${name}: ${message.error}`))
  })
  child.on('exit', (code, signal) => {
    exited = true
    for (const waiter of pending.values()) waiter.reject(new Error(`worker ${name} exited (code ${code}, signal ${signal})`))
    pending.clear()
  })
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if (typeof message === 'object' && message !== null && 'ready' in message) { child.off('message', onMessage); resolve() }
    }
    child.on('message', onMessage)
    child.once('exit', (code) => { reject(new Error(`worker ${name} exited before it was ready (code ${code})`)) })
    child.once('error', reject)
  })
  return {
    pid: child.pid!,
    async call<T>(op: string, params: unknown = {}): Promise<T> {
      if (exited) throw new Error(`worker ${name} has exited`)
      const id = nextId++
      const result = new Promise<unknown>((resolve, reject) => { pending.set(id, { resolve, reject }) })
      child.send({ id, op, params } satisfies WorkerRequest)
      return await result as T
    },
    async stop (): Promise<void> {
      if (exited) return
      const gone = once(child, 'exit')
      child.send({ id: 0, op: 'exit', params: {} } satisfies WorkerRequest)
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      await gone
      clearTimeout(timer)
    }
  }
}

/** Worker side: answers requests with `handlers[op](params)` and reports ready. */
export function serveWorker (handlers: Record<string, (params: never) => Promise<unknown>>): void {
  process.on('message', (message: WorkerRequest) => {
    if (message.op === 'exit') {
      // Let an in-progress --cpu-prof flush by exiting normally.
      process.disconnect()
      setImmediate(() => { process.exit(0) })
      return
    }
    const handler = handlers[message.op]
    const reply = (response: WorkerResponse): void => { process.send!(response) }
    if (handler === undefined) { reply({ id: message.id, ok: false, error: `unknown op ${message.op}` }); return }
    handler(message.params as never).then(
      (result) => { reply({ id: message.id, ok: true, result }) },
      (error: unknown) => { reply({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }) }
    )
  })
  process.send!({ ready: true })
}

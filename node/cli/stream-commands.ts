import type { ClientReadableStream } from '@grpc/grpc-js'
import { formatBytes, parseDuration } from '../config/sizes.js'
import type { FlushProgress__Output } from '../generated/peercas/admin/v1/FlushProgress.js'
import type { SyncProgress__Output } from '../generated/peercas/admin/v1/SyncProgress.js'
import { connectToNode, resolveTarget } from './target.js'
import { Progress, formatElapsed } from './progress.js'
import { CLIENT_OPTIONS, parseCommand, usageError } from './usage.js'
import { EXIT_INTERRUPTED, cleanGrpcDetails } from './errors.js'
import { interruption } from './client-commands.js'

/** `peercas flush [--timeout DURATION]`: waits until the upload queue to the central CAS is empty. */
export async function flush (argv: string[]): Promise<number> {
  const parsed = parseCommand('flush', { args: argv, strict: true, options: { ...CLIENT_OPTIONS, timeout: { type: 'string' } } })
  if (parsed === undefined) return 0
  const { values } = parsed
  const timeoutMs = values.timeout !== undefined ? parseDuration(values.timeout) : 0
  if (timeoutMs === undefined) throw usageError('flush', `--timeout ${values.timeout} is not a duration (e.g. 10m)`)
  const clients = await connectToNode(resolveTarget(values))
  const interrupted = interruption()
  try {
    const bar = new Progress({ label: 'flush', unit: 'items' })
    let initial = -1
    let last: FlushProgress__Output | undefined
    const call = clients.admin.Flush({ timeoutSeconds: Math.ceil(timeoutMs / 1000) }) as ClientReadableStream<FlushProgress__Output>
    interrupted.signal.addEventListener('abort', () => { call.cancel() }, { once: true })
    try {
      for await (const p of call as AsyncIterable<FlushProgress__Output>) {
        last = p
        if (initial < 0) initial = p.queueLength + p.uploadedBlobs
        if (p.done) break
        const state = p.online ? `${formatBytes(p.queueBytes)} to upload` : `central CAS offline${p.lastError !== '' ? ` (${cleanGrpcDetails(p.lastError)})` : ''}; waiting for it`
        bar.update({ done: initial - p.queueLength, total: initial, note: state })
      }
    } catch (error) {
      if (interrupted.signal.aborted) {
        bar.finish(`interrupted with ${last?.queueLength ?? '?'} uploads still queued (they continue in the background)`)
        return EXIT_INTERRUPTED
      }
      throw error
    }
    if (last?.done !== true) {
      bar.finish(`gave up after ${formatElapsed(bar.elapsedSeconds)} with ${last?.queueLength ?? '?'} uploads still queued${last !== undefined && !last.online ? ': the central CAS is offline' : ''}; they continue in the background`)
      return 1
    }
    if (initial === 0 || last.uploadedBlobs === 0) {
      bar.finish('nothing to upload: the queue to the central CAS is empty')
    } else {
      bar.finish(`queue empty: ${last.uploadedBlobs} uploads (${formatBytes(last.uploadedBytes)}) in ${formatElapsed(bar.elapsedSeconds)}`)
    }
    return 0
  } finally {
    interrupted.dispose()
    clients.close()
  }
}

/** `peercas sync MULTIADDR|PEERID [--since DURATION] [--ac-only]`: pulls a peer's cache into this node. */
export async function sync (argv: string[]): Promise<number> {
  const parsed = parseCommand('sync', { args: argv, strict: true, allowPositionals: true, options: { ...CLIENT_OPTIONS, since: { type: 'string' }, 'ac-only': { type: 'boolean' } } })
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (positionals.length !== 1) throw usageError('sync', positionals.length === 0 ? 'no PEER given' : 'only one PEER at a time')
  const sinceMs = values.since !== undefined ? parseDuration(values.since) : 0
  if (sinceMs === undefined) throw usageError('sync', `--since ${values.since} is not a duration (e.g. 7d)`)
  const clients = await connectToNode(resolveTarget(values))
  const interrupted = interruption()
  try {
    const bar = new Progress({ label: 'sync', unit: 'items' })
    let last: SyncProgress__Output | undefined
    const call = clients.admin.Sync({ peer: positionals[0], sinceSeconds: Math.ceil(sinceMs / 1000), acOnly: values['ac-only'] === true }) as ClientReadableStream<SyncProgress__Output>
    interrupted.signal.addEventListener('abort', () => { call.cancel() }, { once: true })
    try {
      for await (const p of call as AsyncIterable<SyncProgress__Output>) {
        last = p
        // Items already here count as done: the bar reaches 100% when the run is complete.
        bar.update({ done: p.doneItems + p.skippedItems + p.failedItems, total: p.totalItems, note: `${p.phase}, ${formatBytes(p.doneBytes)}${p.message !== '' ? ` — ${p.message}` : ''}` })
      }
    } catch (error) {
      if (interrupted.signal.aborted) {
        bar.finish(`interrupted after ${last?.doneItems ?? 0} items; what was fetched stays`)
        return EXIT_INTERRUPTED
      }
      throw error
    }
    if (last === undefined) {
      bar.finish('the node ended the sync without reporting anything')
      return 1
    }
    if (last.doneItems === 0 && last.failedItems === 0) {
      bar.finish(`nothing to do: this node already has ${last.totalItems === 0 ? 'everything' : `all ${last.totalItems} items`} the peer listed${last.message !== '' ? `; ${last.message}` : ''}`)
    } else {
      bar.finish(`${last.doneItems} items fetched (${formatBytes(last.doneBytes)}) in ${formatElapsed(bar.elapsedSeconds)}, ${last.skippedItems} already here, ${last.failedItems} failed${last.message !== '' ? `; ${last.message}` : ''}`)
    }
    return last.done && last.failedItems === 0 ? 0 : 1
  } finally {
    interrupted.dispose()
    clients.close()
  }
}

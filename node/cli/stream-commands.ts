import { parseArgs } from 'node:util'
import type { ClientReadableStream } from '@grpc/grpc-js'
import { formatBytes, parseDuration } from '../config/sizes.js'
import type { FlushProgress__Output } from '../generated/peercas/admin/v1/FlushProgress.js'
import type { SyncProgress__Output } from '../generated/peercas/admin/v1/SyncProgress.js'
import { TARGET_OPTIONS, connectToNode, resolveTarget } from './target.js'
import { ProgressLine } from './progress.js'
import { UsageError } from './client-commands.js'

/** `peercas flush [--timeout DURATION]`: waits until the upload queue to the central CAS is empty. */
export async function flush (argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...TARGET_OPTIONS, timeout: { type: 'string' } } })
  const timeoutMs = values.timeout !== undefined ? parseDuration(values.timeout) : 0
  if (timeoutMs === undefined) throw new UsageError(`--timeout ${values.timeout} is not a duration (e.g. 10m)`)
  const clients = await connectToNode(resolveTarget(values))
  try {
    const bar = new ProgressLine('flush')
    let initial = -1
    let last: FlushProgress__Output | undefined
    const call = clients.admin.Flush({ timeoutSeconds: Math.ceil(timeoutMs / 1000) }) as ClientReadableStream<FlushProgress__Output>
    for await (const p of call as AsyncIterable<FlushProgress__Output>) {
      last = p
      if (initial < 0) initial = p.queueLength + p.uploadedBlobs
      bar.update(initial - p.queueLength, initial, `${p.queueLength} queued (${formatBytes(p.queueBytes)})${p.online ? '' : ' — central CAS offline'}${p.lastError !== '' ? `; ${p.lastError}` : ''}`)
    }
    if (last?.done !== true) {
      bar.finish(`stopped with ${last?.queueLength ?? '?'} items still queued`)
      return 1
    }
    bar.finish(`queue empty; ${last.uploadedBlobs} uploads (${formatBytes(last.uploadedBytes)}) in this run`)
    return 0
  } finally {
    clients.close()
  }
}

/** `peercas sync MULTIADDR|PEERID [--since DURATION] [--ac-only]`: pulls a peer's cache into this node. */
export async function sync (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { ...TARGET_OPTIONS, since: { type: 'string' }, 'ac-only': { type: 'boolean' } } })
  if (positionals.length !== 1) throw new UsageError('usage: peercas sync MULTIADDR|PEERID [--since DURATION] [--ac-only]')
  const sinceMs = values.since !== undefined ? parseDuration(values.since) : 0
  if (sinceMs === undefined) throw new UsageError(`--since ${values.since} is not a duration (e.g. 7d)`)
  const clients = await connectToNode(resolveTarget(values))
  try {
    const bar = new ProgressLine('sync')
    let last: SyncProgress__Output | undefined
    const call = clients.admin.Sync({ peer: positionals[0], sinceSeconds: Math.ceil(sinceMs / 1000), acOnly: values['ac-only'] === true }) as ClientReadableStream<SyncProgress__Output>
    for await (const p of call as AsyncIterable<SyncProgress__Output>) {
      last = p
      bar.update(p.doneItems, p.totalItems, `${p.phase}: ${p.doneItems}/${p.totalItems} items, ${formatBytes(p.doneBytes)}${p.message !== '' ? ` — ${p.message}` : ''}`)
    }
    if (last === undefined) return 1
    bar.finish(`${last.doneItems} items fetched (${formatBytes(last.doneBytes)}), ${last.skippedItems} already here, ${last.failedItems} failed${last.message !== '' ? `; ${last.message}` : ''}`)
    return last.done && last.failedItems === 0 ? 0 : 1
  } finally {
    clients.close()
  }
}

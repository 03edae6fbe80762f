import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import { formatBytes } from '../config/sizes.js'
import { formatDigest, parseDigestString, type Digest } from '../store/digest.js'
import { DigestMismatchError } from '../store/errors.js'
import { byteStreamRead, byteStreamUpload, unary } from '../reapi/clients.js'
import { connectToNode, resolveTarget } from './target.js'
import { NO_TEAM_KEY_HINT } from '../p2p/team-key.js'
import type { GetStatusResponse__Output } from '../generated/peercas/admin/v1/GetStatusResponse.js'
import type { TierCounters__Output } from '../generated/peercas/admin/v1/TierCounters.js'
import { Progress, formatElapsed } from './progress.js'
import { CLIENT_OPTIONS, parseCommand, usageError } from './usage.js'
import { EXIT_INTERRUPTED, UsageError, cleanGrpcDetails } from './errors.js'

export { UsageError } from './errors.js'

/** `peercas status [--json] [--watch]`: what a running node holds and how it is doing. */
export async function status (argv: string[]): Promise<number> {
  const parsed = parseCommand('status', { args: argv, strict: true, options: { ...CLIENT_OPTIONS, json: { type: 'boolean' }, watch: { type: 'boolean' }, interval: { type: 'string' } } })
  if (parsed === undefined) return 0
  const { values } = parsed
  const intervalSeconds = values.interval !== undefined ? Number(values.interval) : 2
  if (!(intervalSeconds > 0)) throw usageError('status', `--interval ${values.interval} is not a positive number of seconds`)
  const clients = await connectToNode(resolveTarget(values))
  try {
    const once = async (): Promise<string> => {
      const s = await unary(clients.admin.GetStatus.bind(clients.admin), {})
      return values.json === true ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s)
    }
    if (values.watch !== true) {
      process.stdout.write(await once())
      return 0
    }
    const interrupted = interruption()
    try {
      while (!interrupted.signal.aborted) {
        const text = await once()
        // Clear the screen on a terminal; separate snapshots with a blank line otherwise.
        process.stdout.write(process.stdout.isTTY === true ? `\u001b[H\u001b[2J${text}` : `${text}\n`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, intervalSeconds * 1000)
          interrupted.signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
        })
      }
      return 0
    } finally {
      interrupted.dispose()
    }
  } finally {
    clients.close()
  }
}

/** Human-readable status. */
export function formatStatus (s: GetStatusResponse__Output, now = Date.now()): string {
  const store = s.store
  const lines = [
    `peercas ${s.version} (pid ${s.pid}, up ${formatElapsed(s.uptimeSeconds)})`,
    `  data dir:  ${s.dataDir}`,
    `  socket:    ${s.socketPath}`,
    `  tcp:       ${s.tcpAddresses.length > 0 ? s.tcpAddresses.join(' ') : '(none)'}`
  ]
  // The peer ID is also the key this node signs its named results with, so it exists with p2p off.
  if (s.peerId !== '') lines.push(`  peer id:   ${s.peerId}`)
  if (s.p2pAddresses.length > 0) {
    lines.push(`  p2p:       ${s.p2pAddresses.join('\n             ')}`)
    lines.push('             (teammates add one of these with --peer)')
  } else {
    lines.push(`  p2p:       off (--no-p2p, or ${NO_TEAM_KEY_HINT.replace(/^p2p is off: /, '')})`)
  }
  if (store != null) {
    const pct = store.quotaBytes > 0 ? (100 * store.totalBytes / store.quotaBytes).toFixed(1) : '0'
    lines.push(`  store:     ${formatBytes(store.totalBytes)} of ${formatBytes(store.quotaBytes)} (${pct}%), ${store.blobCount} blobs (${store.inlineBlobCount} inline), ${store.actionResultCount} action results, ${store.assetCount} assets, ${store.refCount} BuildStream refs`)
  }
  if (s.hits != null) {
    lines.push(`  lookups:   since start  ${formatTiers(s.hits)}`)
    if (s.hitsLastHour != null) lines.push(`             last hour    ${formatTiers(s.hitsLastHour)}`)
    lines.push(`             action cache ${s.hits.actionCacheHits} hits, ${s.hits.actionCacheMisses} misses`)
  }
  lines.push(`  fetched:   ${formatBytes(s.peerBytesFetched)} from peers, ${formatBytes(s.centralBytesFetched)} from the central CAS`)
  if (s.peerId !== '') {
    const connected = s.peers.filter((p) => p.connected).length
    lines.push(`  peers:     ${connected} connected, ${s.peers.length - connected} known but not connected`)
    for (const peer of s.peers) lines.push(`    ${peer.peerId}  ${peerState(peer, now)}`)
    for (const sp of s.staticPeers) {
      if (sp.connected) continue
      const next = Number(sp.nextDialMs) > now ? `; next try in ${Math.ceil((Number(sp.nextDialMs) - now) / 1000)} s` : ''
      lines.push(`    ${sp.address}  dialling${sp.failedDials > 0 ? ` (${sp.failedDials} failed: ${sp.lastError}${next})` : ''}`)
    }
  }
  const remote = s.remote
  if (remote?.configured === true) {
    const problem = remote.lastError !== '' && (!remote.online || Number(remote.queueLength) > 0) ? `; last error: ${cleanGrpcDetails(remote.lastError)}` : ''
    lines.push(`  central:   ${remote.endpoint} ${remote.online ? 'online' : 'OFFLINE'}; upload queue ${remote.queueLength} (${formatBytes(remote.queueBytes)})${problem}`)
  } else {
    lines.push('  central:   none (--remote)')
  }
  if (s.metricsUrl !== '') lines.push(`  metrics:   ${s.metricsUrl}/metrics, dashboard ${s.metricsUrl}/`)
  return lines.join('\n') + '\n'
}

function formatTiers (c: TierCounters__Output): string {
  const total = c.localHits + c.peerHits + c.remoteHits + c.misses
  const pct = (n: number): string => total > 0 ? ` (${(100 * n / total).toFixed(0)}%)` : ''
  return `local ${c.localHits}${pct(c.localHits)}, peer ${c.peerHits}${pct(c.peerHits)}, central ${c.remoteHits}${pct(c.remoteHits)}, miss ${c.misses}${pct(c.misses)}`
}

function peerState (peer: GetStatusResponse__Output['peers'][number], now: number): string {
  const parts: string[] = []
  if (peer.banned) parts.push(`BANNED until ${new Date(Number(peer.bannedUntilMs)).toLocaleTimeString()} (it sent bytes that did not match their digest)`)
  parts.push(peer.connected ? 'connected' : 'disconnected')
  parts.push(`${peer.blobsAdvertised} blobs advertised${peer.connected && !peer.summaryKept ? ' (summary not kept' + (peer.announcementsPausedByUs ? ', announcements paused' : '') + ')' : ''}`)
  parts.push(`fetched ${formatBytes(peer.bytesFetchedFrom)}, served ${formatBytes(peer.bytesServedTo)}`)
  if (peer.addresses.length > 0) parts.push(peer.addresses.join(' '))
  void now
  return parts.join(', ')
}

/** `peercas put FILE`: uploads a file and prints its `hash/size`. */
export async function put (argv: string[]): Promise<number> {
  const parsed = parseCommand('put', { args: argv, strict: true, allowPositionals: true, options: CLIENT_OPTIONS })
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (positionals.length !== 1) throw usageError('put', positionals.length === 0 ? 'no FILE given' : 'only one FILE at a time')
  const file = positionals[0]!
  const info = await stat(file)
  if (!info.isFile()) throw new UsageError(`${file} is not a regular file`)
  const clients = await connectToNode(resolveTarget(values))
  try {
    const started = Date.now()
    const digest = await digestOfFile(file, info.size, new Progress({ label: 'put' }))
    const progress = new Progress({ label: 'put' })
    let sent = 0
    const counted = async function * (): AsyncIterable<Buffer> {
      for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
        sent += (chunk as Buffer).byteLength
        progress.update({ done: sent, total: digest.sizeBytes, note: 'uploading' })
        yield chunk as Buffer
      }
    }
    await byteStreamUpload(clients.byteStream, digest, counted())
    process.stdout.write(formatDigest(digest) + '\n')
    const seconds = (Date.now() - started) / 1000
    progress.finish(`${formatBytes(digest.sizeBytes)} in ${formatElapsed(seconds)}${rateOf(digest.sizeBytes, seconds)} as ${formatDigest(digest).slice(0, 12)}…`)
    return 0
  } finally {
    clients.close()
  }
}

/** `peercas get HASH/SIZE [-o FILE]`: downloads a blob, verified, to FILE or stdout. */
export async function get (argv: string[]): Promise<number> {
  const parsed = parseCommand('get', { args: argv, strict: true, allowPositionals: true, options: { ...CLIENT_OPTIONS, output: { type: 'string', short: 'o' } } })
  if (parsed === undefined) return 0
  const { values, positionals } = parsed
  if (positionals.length !== 1) throw usageError('get', positionals.length === 0 ? 'no HASH/SIZE given' : 'only one HASH/SIZE at a time')
  let digest: Digest
  try {
    digest = parseDigestString(positionals[0]!)
  } catch (error) {
    throw new UsageError(`${JSON.stringify(positionals[0])} is not a digest: expected HASH/SIZE as printed by peercas put (64 hex digits, a slash, the size in bytes)`, { cause: error })
  }
  const clients = await connectToNode(resolveTarget(values))
  const out = values.output
  const temp = out !== undefined ? `${out}.peercas-partial` : undefined
  const interrupted = interruption()
  try {
    const progress = new Progress({ label: 'get' })
    const hash = createHash('sha256')
    let size = 0
    const verify = new Transform({
      transform (message: { data: Buffer }, _enc, cb) {
        hash.update(message.data)
        size += message.data.byteLength
        progress.update({ done: size, total: digest.sizeBytes })
        cb(null, message.data)
      },
      writableObjectMode: true
    })
    try {
      await pipeline(byteStreamRead(clients.byteStream, digest), verify, temp !== undefined ? createWriteStream(temp) : process.stdout, { signal: interrupted.signal })
      const actual = hash.digest('hex')
      if (actual !== digest.hash || size !== digest.sizeBytes) throw new DigestMismatchError(digest, actual, size)
      if (temp !== undefined && out !== undefined) await rename(temp, out)
    } catch (error) {
      if (interrupted.signal.aborted) {
        progress.finish(`interrupted after ${formatBytes(size)}${out !== undefined ? `; ${out} not written` : ''}`)
        return EXIT_INTERRUPTED
      }
      throw error
    } finally {
      if (temp !== undefined) await rm(temp, { force: true })
    }
    progress.finish(`${formatBytes(size)} in ${formatElapsed(progress.elapsedSeconds)}${rateOf(size, progress.elapsedSeconds)}${out !== undefined ? ` → ${out}` : ''}`)
    return 0
  } finally {
    interrupted.dispose()
    clients.close()
  }
}

/** `peercas gc`: evicts down to the low watermark now, and says why when it evicts nothing. */
export async function gc (argv: string[]): Promise<number> {
  const parsed = parseCommand('gc', { args: argv, strict: true, options: { ...CLIENT_OPTIONS, json: { type: 'boolean' } } })
  if (parsed === undefined) return 0
  const { values } = parsed
  const clients = await connectToNode(resolveTarget(values))
  try {
    const before = (await unary(clients.admin.GetStatus.bind(clients.admin), {})).store
    const progress = new Progress({ label: 'gc' })
    const ticker = setInterval(() => { progress.update({ done: 0, total: 0, note: 'evicting' }) }, 500)
    let r
    try {
      r = await unary(clients.admin.RunGc.bind(clients.admin), { targetBytes: 0 })
    } finally {
      clearInterval(ticker)
      progress.clear()
    }
    if (values.json === true) {
      process.stdout.write(JSON.stringify(r) + '\n')
      return 0
    }
    let line = `evicted ${r.evictedBlobs} blobs (${formatBytes(r.evictedBytes)}); store now ${formatBytes(r.totalBytesAfter)}`
    if (before != null && before.quotaBytes > 0) {
      const low = Math.floor(before.quotaBytes * before.lowWatermark)
      line += ` of ${formatBytes(before.quotaBytes)} (${(100 * r.totalBytesAfter / before.quotaBytes).toFixed(1)}%)`
      if (r.evictedBlobs === 0 && r.totalBytesAfter <= low) {
        line += `: nothing to do, the store is below its low watermark (${(before.lowWatermark * 100).toFixed(0)}% = ${formatBytes(low)})`
      } else if (r.totalBytesAfter > low) {
        line += `: still above the low watermark (${(before.lowWatermark * 100).toFixed(0)}% = ${formatBytes(low)}) because the remaining blobs were used in the last minute, are being read, or wait for upload to the central CAS; those are evicted only when the store is over its whole quota (see peercas status for the upload queue)`
      }
    }
    process.stdout.write(line + '\n')
    return 0
  } finally {
    clients.close()
  }
}

/** A signal that aborts on the first Ctrl-C or SIGTERM, for commands that clean up after themselves. */
export function interruption (): { signal: AbortSignal, dispose: () => void } {
  const controller = new AbortController()
  const onSignal = (): void => { controller.abort(new Error('interrupted')) }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    dispose () {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}

function rateOf (bytes: number, seconds: number): string {
  return seconds > 0.05 ? ` (${formatBytes(bytes / seconds)}/s)` : ''
}

async function digestOfFile (path: string, size: number, progress: Progress): Promise<Digest> {
  const hash = createHash('sha256')
  let done = 0
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer)
    done += (chunk as Buffer).byteLength
    progress.update({ done, total: size, note: 'hashing' })
  }
  return { hash: hash.digest('hex'), sizeBytes: size }
}

import { parseArgs } from 'node:util'
import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import { formatBytes } from '../config/sizes.js'
import { formatDigest, parseDigestString, type Digest } from '../store/digest.js'
import { DigestMismatchError } from '../store/errors.js'
import { byteStreamRead, byteStreamUpload, unary } from '../reapi/clients.js'
import { TARGET_OPTIONS, connectToNode, resolveTarget } from './target.js'
import { NO_TEAM_KEY_HINT } from '../p2p/team-key.js'
import type { GetStatusResponse__Output } from '../generated/peercas/admin/v1/GetStatusResponse.js'

/** `peercas status [--json]`: what a running node holds and how it is doing. */
export async function status (argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...TARGET_OPTIONS, json: { type: 'boolean' } } })
  const clients = await connectToNode(resolveTarget(values))
  try {
    const s = await unary(clients.admin.GetStatus.bind(clients.admin), {})
    process.stdout.write(values.json === true ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s))
    return 0
  } finally {
    clients.close()
  }
}

/** Human-readable status. */
export function formatStatus (s: GetStatusResponse__Output): string {
  const store = s.store
  const hits = s.hits
  const lines = [
    `peercas ${s.version} (pid ${s.pid}, up ${Math.round(s.uptimeSeconds)} s)`,
    `  data dir:  ${s.dataDir}`,
    `  socket:    ${s.socketPath}`,
    `  tcp:       ${s.tcpAddresses.length > 0 ? s.tcpAddresses.join(' ') : '(none)'}`
  ]
  if (store != null) {
    const pct = store.quotaBytes > 0 ? (100 * store.totalBytes / store.quotaBytes).toFixed(1) : '0'
    lines.push(`  store:     ${store.blobCount} blobs, ${formatBytes(store.totalBytes)} of ${formatBytes(store.quotaBytes)} (${pct}%), ${store.inlineBlobCount} inline, ${store.actionResultCount} action results, ${store.assetCount} assets, ${store.refCount} BuildStream refs`)
  }
  if (hits != null) {
    lines.push(`  hits:      local ${hits.localHits}, peer ${hits.peerHits}, central ${hits.remoteHits}, miss ${hits.misses}; action cache ${hits.actionCacheHits} hits / ${hits.actionCacheMisses} misses; assets ${hits.assetHits} / ${hits.assetMisses}; refs ${hits.refHits} / ${hits.refMisses}`)
  }
  // The peer ID is also the key this node signs its named results with, so it exists with p2p off.
  if (s.peerId !== '') lines.push(`  peer id:   ${s.peerId}`)
  if (s.p2pAddresses.length === 0) lines.push(`  p2p:       off (--no-p2p, or ${NO_TEAM_KEY_HINT.replace(/^p2p is off: /, '')})`)
  for (const peer of s.peers) {
    lines.push(`  peer ${peer.peerId}${peer.connected ? '' : ' (disconnected)'}${peer.banned ? ' BANNED' : ''}: ${peer.blobsAdvertised} blobs advertised${peer.connected && !peer.summaryKept ? ' (summary not kept' + (peer.announcementsPausedByUs ? ', announcements paused' : '') + ')' : ''}, fetched ${formatBytes(peer.bytesFetchedFrom)}, served ${formatBytes(peer.bytesServedTo)}; ${peer.addresses.join(' ')}`)
  }
  const remote = s.remote
  if (remote?.configured === true) {
    lines.push(`  central:   ${remote.endpoint} ${remote.online ? 'online' : 'OFFLINE'}; queue ${remote.queueLength} (${formatBytes(remote.queueBytes)})${remote.lastError !== '' ? `; last error: ${remote.lastError}` : ''}`)
  }
  return lines.join('\n') + '\n'
}

/** `peercas put FILE`: uploads a file and prints its `hash/size`. */
export async function put (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: TARGET_OPTIONS })
  if (positionals.length !== 1) throw new UsageError('usage: peercas put FILE')
  const file = positionals[0]!
  const digest = await digestOfFile(file)
  const clients = await connectToNode(resolveTarget(values))
  try {
    await byteStreamUpload(clients.byteStream, digest, createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>)
    process.stdout.write(formatDigest(digest) + '\n')
    return 0
  } finally {
    clients.close()
  }
}

/** `peercas get HASH/SIZE [-o FILE]`: downloads a blob, verified, to FILE or stdout. */
export async function get (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { ...TARGET_OPTIONS, output: { type: 'string', short: 'o' } } })
  if (positionals.length !== 1) throw new UsageError('usage: peercas get HASH/SIZE [-o FILE]')
  const digest = parseDigestString(positionals[0]!)
  const clients = await connectToNode(resolveTarget(values))
  try {
    const hash = createHash('sha256')
    let size = 0
    const verify = new Transform({
      transform (message: { data: Buffer }, _enc, cb) { hash.update(message.data); size += message.data.byteLength; cb(null, message.data) },
      writableObjectMode: true
    })
    const out = values.output
    const temp = out !== undefined ? `${out}.peercas-partial` : undefined
    try {
      await pipeline(byteStreamRead(clients.byteStream, digest), verify, temp !== undefined ? createWriteStream(temp) : process.stdout)
      const actual = hash.digest('hex')
      if (actual !== digest.hash || size !== digest.sizeBytes) throw new DigestMismatchError(digest, actual, size)
      if (temp !== undefined && out !== undefined) await rename(temp, out)
    } finally {
      if (temp !== undefined) await rm(temp, { force: true })
    }
    return 0
  } finally {
    clients.close()
  }
}

/** `peercas gc [--target SIZE]`: evicts down to the low watermark now. */
export async function gc (argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { ...TARGET_OPTIONS, json: { type: 'boolean' } } })
  const clients = await connectToNode(resolveTarget(values))
  try {
    const r = await unary(clients.admin.RunGc.bind(clients.admin), { targetBytes: 0 })
    process.stdout.write(values.json === true ? JSON.stringify(r) + '\n' : `evicted ${r.evictedBlobs} blobs (${formatBytes(r.evictedBytes)}); store now ${formatBytes(r.totalBytesAfter)}\n`)
    return 0
  } finally {
    clients.close()
  }
}

/** A command used with the wrong arguments. */
export class UsageError extends Error {
  override name = 'UsageError'
}

async function digestOfFile (path: string): Promise<Digest> {
  const info = await stat(path)
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer)
  return { hash: hash.digest('hex'), sizeBytes: info.size }
}

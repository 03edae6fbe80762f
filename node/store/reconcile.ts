import { createReadStream } from 'node:fs'
import { readdir, rm, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import type { Logger } from '../log/logger.js'
import { accessKey, decodeMeta, encodeMeta, type IndexDb, type IndexOp, writeBatch } from './index-db.js'

/** What a reconcile pass found and fixed. */
export interface ReconcileReport {
  indexedBlobs: number
  droppedEntries: number
  adoptedFiles: number
  deletedFiles: number
}

const HASH_NAME = /^[0-9a-f]{64}$/

/**
 * Brings the index and the blob files back into agreement after an unclean stop:
 * entries whose file is missing or of the wrong size are dropped; files without an entry are
 * re-hashed and adopted if their name matches their content, deleted otherwise; the LRU order
 * is rebuilt; the counters are recomputed.
 */
export async function reconcileStore (index: IndexDb, casDir: string, log: Logger): Promise<{ totals: { blobCount: number, totalBytes: number, inlineBlobCount: number }, report: ReconcileReport }> {
  const report: ReconcileReport = { indexedBlobs: 0, droppedEntries: 0, adoptedFiles: 0, deletedFiles: 0 }
  const totals = { blobCount: 0, totalBytes: 0, inlineBlobCount: 0 }

  await index.lru.clear()
  let ops: IndexOp[] = []
  const flush = async (): Promise<void> => { if (ops.length > 0) { await writeBatch(index, ops); ops = [] } }

  for await (const [hash, value] of index.blobs.iterator()) {
    const meta = decodeMeta(value)
    let ok = true
    if (meta.inline) {
      const data = await index.inlineData.get(hash)
      ok = data !== undefined && data.byteLength === meta.sizeBytes
    } else {
      const info = await stat(join(casDir, hash.slice(0, 2), hash)).catch(() => undefined)
      ok = info !== undefined && info.size === meta.sizeBytes
    }
    if (!ok) {
      ops.push({ type: 'del', sublevel: index.blobs, key: hash }, { type: 'del', sublevel: index.inlineData, key: hash })
      report.droppedEntries++
    } else {
      ops.push({ type: 'put', sublevel: index.lru, key: accessKey(meta.accessedAt, hash), value: Buffer.alloc(0) })
      totals.blobCount++
      totals.totalBytes += meta.sizeBytes
      if (meta.inline) totals.inlineBlobCount++
    }
    if (ops.length >= 1000) await flush()
  }
  await flush()
  report.indexedBlobs = totals.blobCount

  const shards = await readdir(casDir).catch(() => [] as string[])
  for (const shard of shards) {
    const shardDir = join(casDir, shard)
    const names = await readdir(shardDir).catch(() => [] as string[])
    for (const name of names) {
      const path = join(shardDir, name)
      if (!HASH_NAME.test(name) || name.slice(0, 2) !== shard) {
        await rm(path, { force: true, recursive: true })
        report.deletedFiles++
        continue
      }
      const value = await index.blobs.get(name)
      if (value !== undefined && !decodeMeta(value).inline) continue
      // A file without an entry: a crash between rename and index write, or an eviction
      // between index delete and unlink. Adopt it only if its bytes still hash to its name.
      const info = await stat(path)
      if (value === undefined && (await hashFile(path)) === name) {
        const now = Date.now()
        await writeBatch(index, [
          { type: 'put', sublevel: index.blobs, key: name, value: encodeMeta({ sizeBytes: info.size, accessedAt: now, inline: false }) },
          { type: 'put', sublevel: index.lru, key: accessKey(now, name), value: Buffer.alloc(0) }
        ])
        totals.blobCount++
        totals.totalBytes += info.size
        report.adoptedFiles++
      } else {
        await rm(path, { force: true })
        report.deletedFiles++
      }
    }
  }
  if (report.droppedEntries + report.adoptedFiles + report.deletedFiles > 0) {
    log.warn('store reconcile repaired the index', { ...report })
  }
  return { totals, report }
}

async function hashFile (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

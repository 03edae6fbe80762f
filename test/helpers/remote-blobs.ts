// Client-side helpers for the remote tests: write blobs and action results through a node the
// way Bazel does, read them back, and wait for the upload queue to drain.

import { randomBytes } from 'node:crypto'
import { unary, byteStreamUpload, byteStreamRead, type ReapiClients } from '../../node/reapi/clients.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import type { RunningNode } from '../../node/node.js'
import type { FlushProgress } from '../../node/generated/peercas/admin/v1/FlushProgress.js'

/** A blob held in memory with its digest. */
export interface TestBlob { digest: Digest, data: Buffer }

/** Random blobs of the given sizes. */
export function randomBlobs (sizes: number[]): TestBlob[] {
  return sizes.map((size) => { const data = randomBytes(size); return { digest: digestOf(data), data } })
}

/** Writes blobs through a node: small ones with BatchUpdateBlobs, large ones with ByteStream. */
export async function writeBlobs (clients: ReapiClients, blobs: TestBlob[], instanceName = ''): Promise<void> {
  const small = blobs.filter((b) => b.data.byteLength <= 512 * 1024)
  const batches: TestBlob[][] = [[]]
  let bytes = 0
  for (const b of small) {
    if (bytes + b.data.byteLength > 3 * 1024 * 1024 || batches.at(-1)!.length >= 200) { batches.push([]); bytes = 0 }
    batches.at(-1)!.push(b)
    bytes += b.data.byteLength
  }
  for (const batch of batches.filter((x) => x.length > 0)) {
    const response = await unary(clients.cas.BatchUpdateBlobs.bind(clients.cas), { instanceName, requests: batch.map((b) => ({ digest: b.digest, data: b.data })) })
    for (const r of response.responses) if (r.status?.code !== 0) throw new Error(`BatchUpdateBlobs failed: ${r.status?.message}`)
  }
  for (const b of blobs.filter((x) => x.data.byteLength > 512 * 1024)) {
    await byteStreamUpload(clients.byteStream, b.digest, b.data, { instanceName })
  }
}

/** Reads a blob through a node with ByteStream.Read; `undefined` on NOT_FOUND. */
export async function readBlob (clients: ReapiClients, digest: Digest, instanceName = ''): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  try {
    for await (const m of byteStreamRead(clients.byteStream, digest, { instanceName })) chunks.push(m.data)
  } catch (error) {
    if ((error as { code?: number }).code === 5) return undefined
    throw error
  }
  return Buffer.concat(chunks)
}

/** FindMissingBlobs through a node; returns the missing hashes. */
export async function findMissing (clients: ReapiClients, digests: Digest[], instanceName = ''): Promise<string[]> {
  const r = await unary(clients.cas.FindMissingBlobs.bind(clients.cas), { instanceName, blobDigests: digests })
  return r.missingBlobDigests.map((d) => d.hash)
}

/** Stores an ActionResult whose one output file is `output`; returns the action digest. */
export async function writeActionResult (clients: ReapiClients, output: TestBlob, instanceName = ''): Promise<Digest> {
  const action = digestOf(randomBytes(64))
  await unary(clients.actionCache.UpdateActionResult.bind(clients.actionCache), {
    instanceName,
    actionDigest: action,
    actionResult: { outputFiles: [{ path: 'out/file', digest: output.digest }], exitCode: 0 }
  })
  return action
}

/** GetActionResult through a node; `undefined` on NOT_FOUND. */
export async function getActionResult (clients: ReapiClients, action: Digest, instanceName = ''): Promise<{ outputFiles: Array<{ digest?: { hash: string } | null }> } | undefined> {
  try {
    return await unary(clients.actionCache.GetActionResult.bind(clients.actionCache), { instanceName, actionDigest: action })
  } catch (error) {
    if ((error as { code?: number }).code === 5) return undefined
    throw error
  }
}

/** Runs the node's flush until done (throws on timeout) and returns the progress reports. */
export async function flushNode (node: RunningNode, timeoutMs = 30_000): Promise<FlushProgress[]> {
  const reports: FlushProgress[] = []
  for await (const p of node.remote!.flush(AbortSignal.timeout(timeoutMs))) reports.push(p)
  if (reports.at(-1)?.done !== true) throw new Error(`flush did not finish: ${JSON.stringify(reports.at(-1))}`)
  return reports
}

export { waitFor } from './wait.js'

import { afterAll, describe, expect, it } from 'vitest'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { byteStreamRead, createClients, unary, type ReapiClients } from '../../node/reapi/clients.js'
import type { Digest } from '../../node/store/digest.js'
import { makeTempDir } from '../helpers/node.js'
import { runPeercas, type PeercasProcess } from '../helpers/process.js'
import { createAssetClients } from '../helpers/assets.js'
import { emptyAcknowledged, matchesDigest, runMixedLoad, seededRandom, type Acknowledged, type LoadError } from '../helpers/load.js'

// kill -9 at random moments under mixed load, then restart: everything the node acknowledged is
// still there, and every blob it serves matches its digest. `npm run torture` runs 100 kills;
// PEERCAS_TORTURE_KILLS sets the count, PEERCAS_TORTURE_FSYNC=1 turns store.fsync on,
// PEERCAS_TORTURE_SEED replays a run.
const KILLS = Number(process.env.PEERCAS_TORTURE_KILLS ?? 3)
const FSYNC = process.env.PEERCAS_TORTURE_FSYNC === '1'
const SEED = Number(process.env.PEERCAS_TORTURE_SEED ?? 12)
const CLIENTS = 8

/** Every item of `ack` is present; blobs in `read` (and a sample of the rest) read back intact. Returns problems found. */
async function verify (clients: ReapiClients, target: string, ack: Acknowledged, read: Digest[]): Promise<string[]> {
  const problems: string[] = []
  const all = [...ack.blobs.values()]
  for (let at = 0; at < all.length; at += 2000) {
    const r = await unary(clients.cas.FindMissingBlobs.bind(clients.cas), { blobDigests: all.slice(at, at + 2000) })
    for (const d of r.missingBlobDigests) problems.push(`acknowledged blob ${d.hash}/${d.sizeBytes} is missing`)
  }
  const small = read.filter((d) => d.sizeBytes <= 64 * 1024)
  for (let at = 0; at < small.length; at += 200) {
    const r = await unary(clients.cas.BatchReadBlobs.bind(clients.cas), { digests: small.slice(at, at + 200) })
    for (const x of r.responses) {
      const d = { hash: x.digest!.hash, sizeBytes: Number(x.digest!.sizeBytes) }
      if (x.status?.code !== 0) problems.push(`BatchReadBlobs ${d.hash}: ${x.status?.message}`)
      else if (!matchesDigest(x.data, d)) problems.push(`BatchReadBlobs served bytes that do not match ${d.hash}`)
    }
  }
  for (const d of read.filter((x) => x.sizeBytes > 64 * 1024)) {
    const parts: Buffer[] = []
    for await (const m of byteStreamRead(clients.byteStream, d)) parts.push(m.data)
    if (!matchesDigest(Buffer.concat(parts), d)) problems.push(`ByteStream.Read served bytes that do not match ${d.hash}`)
  }
  for (const { action, output } of ack.results.values()) {
    try {
      const r = await unary(clients.actionCache.GetActionResult.bind(clients.actionCache), { actionDigest: action })
      if (r.outputFiles[0]?.digest?.hash !== output.hash) problems.push(`action result ${action.hash} names the wrong output`)
    } catch (error) {
      problems.push(`acknowledged action result ${action.hash}: ${(error as Error).message}`)
    }
  }
  const assets = createAssetClients(target)
  try {
    for (const [key, digest] of ack.refs) {
      const r = await unary(assets.refs.GetReference.bind(assets.refs), { key }).catch((e: Error) => ({ digest: { hash: e.message } }))
      if (r.digest?.hash !== digest.hash) problems.push(`reference ${key}: ${r.digest?.hash}`)
    }
    for (const [uri, digest] of ack.assets) {
      const r = await unary(assets.fetch.FetchBlob.bind(assets.fetch), { uris: [uri] }).catch((e: Error) => ({ blobDigest: { hash: e.message } }))
      if (r.blobDigest?.hash !== digest.hash) problems.push(`asset ${uri}: ${r.blobDigest?.hash}`)
    }
  } finally {
    assets.close()
  }
  return problems
}

describe(`kill -9 under mixed load (${KILLS}×)`, () => {
  const dirs: string[] = []
  let child: PeercasProcess | undefined
  afterAll(async () => {
    if (child !== undefined && child.child.exitCode === null && child.child.signalCode === null) { child.child.kill('SIGKILL'); await child.exited }
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('keeps every acknowledged write, and every blob it serves matches its digest', async () => {
    const dataDir = await makeTempDir('peercas-torture-')
    dirs.push(dataDir)
    const args = ['serve', '--data-dir', dataDir, '--no-p2p', '--no-mdns', '--no-origin-fetch', '--log-level', 'error']
    if (FSYNC) {
      const config = join(dataDir, '..', `${dataDir.split('/').at(-1)!}.yaml`)
      await writeFile(config, 'store:\n  fsync: true\n')
      dirs.push(config)
      args.push('--config', config)
    }
    const target = `unix:${join(dataDir, 'cas.sock')}`
    const random = seededRandom(SEED)
    const ack = emptyAcknowledged()
    let verified = new Set<string>()
    const errors: Array<LoadError & { round: number }> = []
    const problems: string[] = []
    let restartMs = 0
    for (let round = 0; round <= KILLS; round++) {
      const started = performance.now()
      child = runPeercas(args)
      await child.ready
      restartMs = Math.max(restartMs, performance.now() - started)
      const clients = createClients(target)
      try {
        // What was acknowledged since the last check is read back in full; older blobs by sample.
        const fresh = [...ack.blobs.values()].filter((d) => !verified.has(d.hash))
        const older = [...ack.blobs.values()].filter((d) => verified.has(d.hash))
        const sampled = Array.from({ length: Math.min(100, older.length) }, () => older[Math.floor(random() * older.length)]!)
        const all = round === KILLS ? [...ack.blobs.values()] : [...fresh, ...sampled]
        problems.push(...(await verify(clients, target, ack, all)).map((p) => `after kill ${round}: ${p}`))
        verified = new Set(ack.blobs.keys())
        if (round === KILLS) break
        const controller = new AbortController()
        const load = runMixedLoad({ target, clients: CLIENTS, signal: controller.signal, seed: SEED * 1000 + round, acknowledged: ack, maxStreamBytes: 1024 * 1024 })
        await new Promise((resolve) => setTimeout(resolve, 300 + random() * 1500))
        const killedAt = performance.now()
        child.child.kill('SIGKILL')
        await child.exited
        controller.abort()
        const result = await load
        // Calls cut by the kill fail; any failure before it is a finding.
        errors.push(...result.errors.filter((e) => e.at < killedAt).map((e) => ({ ...e, round })))
      } finally {
        clients.close()
      }
    }
    child!.child.kill('SIGTERM')
    expect((await child!.exited).code).toBe(0)
    console.log(`torture: ${KILLS} kill -9s${FSYNC ? ' (store.fsync on)' : ''}; acknowledged ${ack.blobs.size} blobs, ` +
      `${ack.results.size} action results, ${ack.refs.size} references, ${ack.assets.size} assets; ` +
      `slowest restart ${Math.round(restartMs)} ms; ${problems.length} lost or wrong; ${errors.length} errors before a kill`)
    expect(problems.slice(0, 20)).toEqual([])
    expect(errors.slice(0, 20)).toEqual([])
    expect(ack.blobs.size).toBeGreaterThan(KILLS * 10)
  }, 120_000 + KILLS * 30_000)
})

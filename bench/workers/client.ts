// A REAPI client in its own process, so that client and server do not share a CPU thread.
// The harness drives it over IPC; every figure it returns is timed here, around the RPCs only
// (generating and hashing test data happens before the clock starts).
import * as grpc from '@grpc/grpc-js'
import { bytestream } from '../../node/reapi/protos.js'
import { byteStreamRead, byteStreamUpload, createClients, unary, type ReapiClients } from '../../node/reapi/clients.js'
import type { ByteStreamClient } from '../../node/generated/google/bytestream/ByteStream.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { serveWorker } from '../lib/worker.js'
import { randomBuffer } from '../lib/random.js'

/** Which client options a call uses: grpc-js defaults (the baseline) or peercas's CLIENT_OPTIONS. */
export type ClientFlavour = 'bare' | 'peercas'

interface Target { target: string, flavour: ClientFlavour, options?: grpc.ChannelOptions }

const reapiClients = new Map<string, ReapiClients>()
const bareClients = new Map<string, ByteStreamClient>()
let data: Buffer = Buffer.alloc(0)
let counter = 0
let lastDigest: Digest | undefined

function byteStreamClient ({ target, flavour, options }: Target): ByteStreamClient {
  const key = `${flavour} ${target} ${JSON.stringify(options ?? {})}`
  if (flavour === 'peercas') return reapi({ target, flavour, options }).byteStream
  let client = bareClients.get(key)
  if (client === undefined) {
    client = new bytestream.ByteStream(target, grpc.credentials.createInsecure(), options ?? {}) as unknown as ByteStreamClient
    bareClients.set(key, client)
  }
  return client
}

function reapi ({ target, options }: Target): ReapiClients {
  const key = `${target} ${JSON.stringify(options ?? {})}`
  let clients = reapiClients.get(key)
  if (clients === undefined) {
    clients = createClients(target, grpc.credentials.createInsecure(), options ?? {})
    reapiClients.set(key, clients)
  }
  return clients
}

/** A fresh variant of the prepared data (so every upload is a new blob) and its digest. */
function freshBlob (): Digest {
  counter++
  data.writeDoubleLE(counter + process.pid * 1e6 + Date.now(), 0)
  lastDigest = digestOf(data)
  return lastDigest
}

async function drain (stream: AsyncIterable<{ data: Buffer }>): Promise<number> {
  let bytes = 0
  for await (const message of stream) bytes += message.data.byteLength
  return bytes
}

serveWorker({
  async prepare ({ size }: { size: number }) {
    data = randomBuffer(size)
    return { size }
  },

  async write ({ chunkBytes, ...target }: Target & { chunkBytes: number }) {
    const digest = freshBlob()
    const client = byteStreamClient(target)
    const started = performance.now()
    const committed = await byteStreamUpload(client, digest, data, { chunkBytes })
    const ms = performance.now() - started
    if (committed !== digest.sizeBytes) throw new Error(`committed_size ${committed}, expected ${digest.sizeBytes}`)
    return { ms, bytes: digest.sizeBytes, digest }
  },

  async read ({ digest, ...target }: Target & { digest?: Digest }) {
    const wanted = digest ?? lastDigest ?? digestOf(data)
    const client = byteStreamClient(target)
    const started = performance.now()
    const bytes = await drain(byteStreamRead(client, wanted))
    const ms = performance.now() - started
    if (bytes !== wanted.sizeBytes) throw new Error(`read ${bytes} bytes, expected ${wanted.sizeBytes}`)
    return { ms, bytes }
  },

  async batchUpdate ({ count, blobBytes, perRequest, concurrency, ...target }: Target & { count: number, blobBytes: number, perRequest: number, concurrency: number }) {
    const blobs = Array.from({ length: count }, () => { const d = randomBuffer(blobBytes); return { digest: digestOf(d), data: d } })
    const cas = reapi(target).cas
    const requests: Array<typeof blobs> = []
    for (let at = 0; at < count; at += perRequest) requests.push(blobs.slice(at, at + perRequest))
    let next = 0
    let failed = 0
    const started = performance.now()
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const batch = requests[next++]!
        const response = await unary(cas.BatchUpdateBlobs.bind(cas), { requests: batch })
        failed += response.responses.filter((r) => r.status?.code !== 0).length
      }
    }))
    const ms = performance.now() - started
    if (failed > 0) throw new Error(`${failed} blobs of BatchUpdateBlobs failed`)
    return { ms, count }
  },

  async findMissing ({ present, absent, repeats, ...target }: Target & { present: number, absent: number, repeats: number }) {
    const cas = reapi(target).cas
    const stored = Array.from({ length: present }, () => { const d = randomBuffer(64); return { digest: digestOf(d), data: d } })
    for (let at = 0; at < stored.length; at += 2000) {
      await unary(cas.BatchUpdateBlobs.bind(cas), { requests: stored.slice(at, at + 2000) })
    }
    const missing = Array.from({ length: absent }, () => digestOf(randomBuffer(64)))
    // Interleave present and absent digests, as a build's FindMissingBlobs would.
    const digests: Digest[] = []
    for (let i = 0; i < Math.max(present, absent); i++) {
      if (i < present) digests.push(stored[i]!.digest)
      if (i < absent) digests.push(missing[i]!)
    }
    const times: number[] = []
    for (let r = 0; r < repeats; r++) {
      const started = performance.now()
      const response = await unary(cas.FindMissingBlobs.bind(cas), { blobDigests: digests })
      times.push(performance.now() - started)
      if (response.missingBlobDigests.length !== absent) throw new Error(`FindMissingBlobs reported ${response.missingBlobDigests.length} missing, expected ${absent}`)
    }
    return { times }
  },

  /** `count` distinct blobs of `size` bytes: ByteStream.Write each, then ByteStream.Read each. */
  async sweep ({ size, count, ...target }: Target & { size: number, count: number }) {
    const blobs = Array.from({ length: count }, () => randomBuffer(size))
    const digests = blobs.map((b) => digestOf(b))
    const client = byteStreamClient(target)
    let started = performance.now()
    for (let i = 0; i < count; i++) await byteStreamUpload(client, digests[i]!, blobs[i]!)
    const writeMs = performance.now() - started
    started = performance.now()
    for (const digest of digests) {
      const bytes = await drain(byteStreamRead(client, digest))
      if (bytes !== size) throw new Error(`read ${bytes} of ${size} bytes`)
    }
    const readMs = performance.now() - started
    return { writeMs, readMs, bytes: size * count }
  },

  async close () {
    for (const c of reapiClients.values()) c.close()
    for (const c of bareClients.values()) c.close()
    reapiClients.clear()
    bareClients.clear()
    return {}
  }
})

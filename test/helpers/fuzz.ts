// A gRPC request fuzzer: it sends mutated wire bytes (a client with identity serializers, so the
// bytes on the wire are exactly ours) to every method a peercas node serves, in every stream
// order, and records how each call ended. Deterministic: request `i` of seed `s` is always the same.

import * as grpc from '@grpc/grpc-js'
import { admin, buildstream, bytestream, reapi, remoteAsset } from '../../node/reapi/protos.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import { seededRandom } from './load.js'

/** One method of a served service, from its grpc-js definition. */
export interface FuzzMethod {
  /** `Service.Method`. */
  name: string
  path: string
  requestStream: boolean
  responseStream: boolean
  serialize: (value: object) => Buffer
}

type ServiceDef = Record<string, { path: string, requestStream: boolean, responseStream: boolean, requestSerialize: (v: object) => Buffer }>

/** Every method of every service the node serves. */
export function allMethods (): FuzzMethod[] {
  const services: Array<[string, ServiceDef]> = [
    ['CAS', reapi.ContentAddressableStorage.service as unknown as ServiceDef],
    ['ByteStream', bytestream.ByteStream.service as unknown as ServiceDef],
    ['ActionCache', reapi.ActionCache.service as unknown as ServiceDef],
    ['Capabilities', reapi.Capabilities.service as unknown as ServiceDef],
    ['Execution', reapi.Execution.service as unknown as ServiceDef],
    ['Admin', admin.Admin.service as unknown as ServiceDef],
    ['Fetch', remoteAsset.Fetch.service as unknown as ServiceDef],
    ['Push', remoteAsset.Push.service as unknown as ServiceDef],
    ['ReferenceStorage', buildstream.ReferenceStorage.service as unknown as ServiceDef]
  ]
  return services.flatMap(([service, def]) => Object.entries(def)
    // grpc-js lists each method twice (as declared and camelCased); keep the declared one.
    .filter(([name]) => /^[A-Z]/.test(name))
    .map(([name, m]) => ({ name: `${service}.${name}`, path: m.path, requestStream: m.requestStream, responseStream: m.responseStream, serialize: m.requestSerialize })))
}

/** Blobs the node holds before the fuzz, so valid-looking requests reach deep code paths. */
export interface FuzzFixtures { small: Digest, large: Digest, directory: Digest }

/** A valid request for each method (the seed the mutations start from). */
function seedRequest (method: string, f: FuzzFixtures, random: () => number): object {
  const unknown = { hash: 'ab'.repeat(32), sizeBytes: 7 }
  const any = random() < 0.5 ? f.small : random() < 0.5 ? f.large : unknown
  switch (method) {
    case 'CAS.FindMissingBlobs': return { blobDigests: [f.small, unknown, f.large] }
    case 'CAS.BatchUpdateBlobs': { const data = Buffer.from('fuzz'); return { requests: [{ digest: digestOf(data), data }] } }
    case 'CAS.BatchReadBlobs': return { digests: [f.small, unknown, f.directory] }
    case 'CAS.GetTree': return { rootDigest: f.directory, pageSize: 10, pageToken: '' }
    case 'CAS.SplitBlob': return { blobDigest: any }
    case 'CAS.SpliceBlob': return { blobDigest: f.small, chunkDigests: [f.small] }
    case 'ByteStream.Read': return { resourceName: `blobs/${any.hash}/${any.sizeBytes}`, readOffset: Math.floor(random() * 10), readLimit: Math.floor(random() * 100) }
    case 'ByteStream.QueryWriteStatus': return { resourceName: `uploads/u-${Math.floor(random() * 4)}/blobs/${any.hash}/${any.sizeBytes}` }
    case 'ActionCache.GetActionResult': return { actionDigest: any, inlineStdout: true, inlineOutputFiles: ['out'] }
    case 'ActionCache.UpdateActionResult': return { actionDigest: digestOf(Buffer.from(`a${Math.floor(random() * 50)}`)), actionResult: { outputFiles: [{ path: 'out', digest: f.small }], exitCode: 0 } }
    case 'Capabilities.GetCapabilities': return { instanceName: '' }
    case 'Execution.Execute': return { actionDigest: f.small, skipCacheLookup: false }
    case 'Execution.WaitExecution': return { name: 'operations/x' }
    case 'Admin.GetStatus': return {}
    case 'Admin.RunGc': return { targetBytes: Math.floor(random() * 1e9) }
    case 'Admin.Flush': return {}
    case 'Admin.Sync': return { peer: '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWxxxx' }
    case 'Admin.OpenSocket': return { environment: `env-${Math.floor(random() * 5)}` }
    case 'Admin.CloseSocket': return { path: '' }
    case 'Fetch.FetchBlob': return { uris: ['https://example.invalid/x'], qualifiers: [{ name: 'checksum.sri', value: 'sha256-AAAA' }] }
    case 'Fetch.FetchDirectory': return { uris: ['https://example.invalid/d'] }
    case 'Push.PushBlob': return { uris: [`https://example.invalid/${Math.floor(random() * 20)}`], blobDigest: any }
    case 'Push.PushDirectory': return { uris: ['https://example.invalid/d'], rootDirectoryDigest: f.directory }
    case 'ReferenceStorage.GetReference': return { key: `k${Math.floor(random() * 20)}` }
    case 'ReferenceStorage.UpdateReference': return { keys: [`k${Math.floor(random() * 20)}`], digest: f.directory }
    case 'ReferenceStorage.Status': return {}
    default: return {}
  }
}

/** Replaces one leaf of `value` (a number, string, buffer or boolean) by an extreme. */
function mutateLeaf (value: unknown, random: () => number): unknown {
  const pickOf = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!
  if (typeof value === 'number') return pickOf([-1, 0, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER, 1.5, -(2 ** 40)])
  if (typeof value === 'string') return pickOf(['', '../../etc/passwd', 'x'.repeat(100_000), '\u0000', 'blobs/zz/1', 'uploads//blobs//', '🙂'.repeat(100), value + value])
  if (Buffer.isBuffer(value)) return pickOf([Buffer.alloc(0), Buffer.alloc(1 << 20, 1), value.subarray(1)])
  if (typeof value === 'boolean') return !value
  if (Array.isArray(value)) {
    if (value.length === 0) return value
    const r = random()
    if (r < 0.3) return []
    if (r < 0.5) return Array.from({ length: 2000 }, () => value[0])
    const copy = [...value]
    const i = Math.floor(random() * copy.length)
    copy[i] = mutateLeaf(copy[i], random)
    return copy
  }
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value)
    if (keys.length === 0) return value
    const key = pickOf(keys)
    return { ...value, [key]: mutateLeaf((value as Record<string, unknown>)[key], random) }
  }
  return value
}

/** A varint of `n`. */
function varint (n: number): Buffer {
  const out: number[] = []
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return Buffer.from(out)
}

/** Mutates wire bytes. */
function mutateBytes (bytes: Buffer, random: () => number): Buffer {
  const b = Buffer.from(bytes)
  const at = (): number => Math.floor(random() * (b.length + 1))
  const randomBuf = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)))
  switch (Math.floor(random() * 8)) {
    case 0: for (let i = 0; i < 1 + random() * 8 && b.length > 0; i++) b[Math.floor(random() * b.length)]! ^= 1 << Math.floor(random() * 8); return b
    case 1: return b.subarray(0, at())
    case 2: { const p = at(); return Buffer.concat([b.subarray(0, p), randomBuf(1 + Math.floor(random() * 16)), b.subarray(p)]) }
    case 3: { const p = at(); return Buffer.concat([b.subarray(0, p), b.subarray(p), b.subarray(p)]) }
    // A length-delimited field that claims 2 GiB.
    case 4: return Buffer.concat([b, Buffer.from([(1 + Math.floor(random() * 9)) << 3 | 2]), varint(2 ** 31), randomBuf(8)])
    case 5: return randomBuf(Math.floor(random() * 256))
    // An unknown field, a group start, a deprecated wire type.
    case 6: return Buffer.concat([b, Buffer.from([0xf8, 0x07, 0x01, 0x0b, 0x0e])])
    default: { const p = at(); return Buffer.concat([b.subarray(0, p), b.subarray(p + 1 + Math.floor(random() * 4))]) }
  }
}

/** How one fuzzed call ended. */
export interface FuzzOutcome {
  /** The request's index (replay it with the same seed). */
  index: number
  method: string
  /** gRPC status code; -1 if the call did not end within the budget (a stall). */
  code: number
  details: string
  ms: number
}

/** The ways a ByteStream.Write stream can be ordered. */
const WRITE_ORDERS = ['valid', 'reordered', 'duplicate', 'gap', 'finish-early', 'after-finish', 'no-finish', 'cancel', 'rename', 'mutated', 'empty', 'stall'] as const

/** A client that sends and receives raw bytes. */
export function rawClient (target: string): grpc.Client {
  return new grpc.Client(target, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 })
}

const identity = (x: Buffer): Buffer => x

/** The `index`th request of the fuzz with `seed`: sends it and resolves how it ended. */
export async function fuzzOne (client: grpc.Client, methods: FuzzMethod[], fixtures: FuzzFixtures, seed: number, index: number, budgetMs: number): Promise<FuzzOutcome> {
  const random = seededRandom(seed * 1_000_003 + index)
  const method = methods[Math.floor(random() * methods.length)]!
  const started = performance.now()
  const request = (): Buffer => {
    let value = seedRequest(method.name, fixtures, random)
    const r = random()
    if (r < 0.1) return method.serialize(value)
    // OpenSocket's mutated bytes could name a socket path anywhere on disk: only its environment is fuzzed.
    if (r < 0.45 || method.name === 'Admin.OpenSocket') { value = mutateLeaf(value, random) as object; return method.serialize(value) }
    return mutateBytes(method.serialize(value), random)
  }
  const deadline = new Date(Date.now() + budgetMs)
  return await new Promise<FuzzOutcome>((resolve) => {
    let settled = false
    const done = (code: number, details: string): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ index, method: method.name, code, details, ms: performance.now() - started })
    }
    // The deadline makes grpc-js end the call with DEADLINE_EXCEEDED; this timer catches a call that never ends at all.
    const timer = setTimeout(() => { done(-1, 'no status within the budget') }, budgetMs + 5000)
    const onEnd = (error: grpc.ServiceError | null): void => { done(error === null ? 0 : error.code, error?.details ?? '') }
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(method.path, identity, identity, request(), { deadline }, onEnd)
    } else if (!method.requestStream) {
      const call = client.makeServerStreamRequest(method.path, identity, identity, request(), { deadline })
      const cancelAfter = random() < 0.2 ? Math.floor(random() * 3) : -1
      let seen = 0
      call.on('data', () => { if (seen++ === cancelAfter) call.cancel() })
      call.on('error', (e: grpc.ServiceError) => { onEnd(e) })
      call.on('status', (s: grpc.StatusObject) => { if (s.code === 0) onEnd(null) })
    } else {
      const call = client.makeClientStreamRequest(method.path, identity, identity, { deadline }, (error) => { onEnd(error) })
      for (const message of writeStream(method, fixtures, random, call)) call.write(message)
    }
  })
}

/** The messages of a ByteStream.Write in one of {@link WRITE_ORDERS}; may cancel or end the call itself. */
function * writeStream (method: FuzzMethod, f: FuzzFixtures, random: () => number, call: grpc.ClientWritableStream<Buffer>): Generator<Buffer> {
  const order = WRITE_ORDERS[Math.floor(random() * WRITE_ORDERS.length)]!
  const size = 1 + Math.floor(random() * 200_000)
  const data = Buffer.alloc(size, Math.floor(random() * 256))
  const digest = digestOf(data)
  const name = `uploads/u-${Math.floor(random() * 8)}/blobs/${digest.hash}/${digest.sizeBytes}`
  const cut = [0, Math.floor(size / 3), Math.floor((2 * size) / 3), size]
  let messages = [0, 1, 2].map((i) => ({ resourceName: i === 0 ? name : '', writeOffset: cut[i]!, data: data.subarray(cut[i], cut[i + 1]), finishWrite: i === 2 }))
  switch (order) {
    case 'reordered': messages = [messages[0]!, messages[2]!, messages[1]!]; break
    case 'duplicate': messages = [messages[0]!, messages[0]!, ...messages.slice(1)]; break
    case 'gap': messages = [messages[0]!, messages[2]!]; break
    case 'finish-early': messages = [{ ...messages[0]!, finishWrite: true }, ...messages.slice(1)]; break
    case 'after-finish': messages = [...messages, { ...messages[2]!, writeOffset: size }]; break
    case 'no-finish': messages = messages.slice(0, 2); break
    case 'rename': messages = [messages[0]!, { ...messages[1]!, resourceName: `uploads/other/blobs/${f.small.hash}/${f.small.sizeBytes}` }, messages[2]!]; break
    case 'empty': messages = []; break
    default: break
  }
  let wire = messages.map((m) => method.serialize(m))
  if (order === 'mutated') wire = wire.map((w) => random() < 0.5 ? mutateBytes(w, random) : w)
  const cancelAt = order === 'cancel' ? Math.floor(random() * wire.length) : -1
  for (const [i, w] of wire.entries()) {
    if (i === cancelAt) { call.cancel(); return }
    yield w
  }
  // A stalled client never half-closes: the deadline ends it.
  if (order !== 'stall') call.end()
}

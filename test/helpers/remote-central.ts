// Real central CAS servers for the remote tests: a grpc-js server over a real store that can be
// told to misbehave (corrupt bytes, delays, RESOURCE_EXHAUSTED, token checks, AC refusal, TLS),
// BuildStream 1.6.8's CAS server as a third-party central, and TLS material made with openssl.

import * as grpc from '@grpc/grpc-js'
import { afterEach } from 'vitest'
import { startTestNode, type TestNode } from './node.js'
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { connect, createServer, type Socket } from 'node:net'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { LocalStore } from '../../node/store/local-store.js'
import { TieredResolver } from '../../node/resolve/tiered-resolver.js'
import { createCasService } from '../../node/reapi/cas-service.js'
import { createByteStreamService } from '../../node/reapi/bytestream-service.js'
import { createActionCacheService } from '../../node/reapi/action-cache-service.js'
import { createCapabilitiesService, serverCapabilities } from '../../node/reapi/capabilities-service.js'
import { SERVER_OPTIONS, actionCacheServiceDefinition, byteStreamServiceDefinition, casServiceDefinition } from '../../node/reapi/grpc-server.js'
import { reapi } from '../../node/reapi/protos.js'
import { rpcError } from '../../node/reapi/errors.js'
import { createClients, unary, type ReapiClients } from '../../node/reapi/clients.js'
import { makeTempDir } from './node.js'
import { NamedResultResolver } from '../../node/resolve/named-results.js'
import { actionResultRule } from '../../node/resolve/named-result-rules.js'
import { ResultSigner } from '../../node/trust/signatures.js'
import { TrustPolicy } from '../../node/trust/policy.js'
import { generateKeyPair } from '@libp2p/crypto/keys'

/** Knobs of a {@link FaultyCentral}; change them while it runs. */
export interface CentralFaults {
  /** Flip a byte in every blob served by BatchReadBlobs and ByteStream.Read. */
  corruptReads: boolean
  /** Delay before answering every call, ms. */
  delayMs: number
  /** Answer the next N calls with RESOURCE_EXHAUSTED. */
  resourceExhausted: number
  /** Refuse calls whose `authorization` is not `Bearer <token>` (empty: no check). */
  requireToken: string
  /** Advertise no AC updates and refuse UpdateActionResult with PERMISSION_DENIED. */
  refuseAcUpdates: boolean
  /**
   * Cut the next `times` (default 1) ByteStream.Reads short after `afterBytes` bytes each: with
   * UNAVAILABLE, or by sending nothing more and never ending (`stall`). Cleared once used up.
   */
  cutRead: { afterBytes: number, how: 'unavailable' | 'stall', times?: number } | null
  /** Flip a byte in every ByteStream.Read that starts past offset 0 (a central that lies after a resume). */
  corruptResumedReads: boolean
  /** Refuse every ByteStream.Read that starts past offset 0 with INVALID_ARGUMENT (a central without read_offset). */
  refuseReadOffset: boolean
  /** Flip a byte of these blobs (by hash) wherever they are served. */
  corruptHashes: string[]
  /** Advertise this max_batch_total_size_bytes and refuse larger BatchReadBlobs (0 = the default 4 MiB). */
  maxBatchBytes: number
}

/** A ByteStream.Read the central received. */
export interface ReadRequestRecord { resourceName: string, readOffset: number }

/** A BatchReadBlobs the central received. */
export interface BatchReadRecord { blobs: number, bytes: number }

/** A real gRPC central CAS on loopback that can be made to misbehave. */
export interface FaultyCentral {
  readonly port: number
  /** `grpc://127.0.0.1:PORT` or `grpcs://127.0.0.1:PORT`. */
  readonly endpoint: string
  readonly store: LocalStore
  readonly faults: CentralFaults
  /** Calls received, by method name (including refused ones). */
  readonly calls: Record<string, number>
  /** Every ByteStream.Read received, in order. */
  readonly readRequests: ReadRequestRecord[]
  /** Every BatchReadBlobs received, in order. */
  readonly batchReads: BatchReadRecord[]
  /** Stops listening; the store stays unless `removeData`. */
  stop(removeData?: boolean): Promise<void>
}

/** TLS options of {@link startFaultyCentral}. */
export interface CentralTls {
  key: Buffer
  cert: Buffer
  /** Require client certificates signed by this CA. */
  clientCa?: Buffer
}

/** Starts a misbehaving-on-demand central on 127.0.0.1 (port 0 unless given). */
export async function startFaultyCentral (opts: { port?: number, tls?: CentralTls, dataDir?: string, faults?: Partial<CentralFaults> } = {}): Promise<FaultyCentral> {
  const dataDir = opts.dataDir ?? await makeTempDir('peercas-central-')
  const store = await LocalStore.open({ dataDir, maxSizeBytes: 2 * 1024 ** 3 })
  const resolver = new TieredResolver({ store })
  const faults: CentralFaults = {
    corruptReads: false,
    delayMs: 0,
    resourceExhausted: 0,
    requireToken: '',
    refuseAcUpdates: false,
    cutRead: null,
    corruptResumedReads: false,
    refuseReadOffset: false,
    corruptHashes: [],
    maxBatchBytes: 0,
    ...opts.faults
  }
  const calls: Record<string, number> = {}
  const readRequests: ReadRequestRecord[] = []
  const batchReads: BatchReadRecord[] = []

  const gate = async (name: string, metadata: grpc.Metadata): Promise<void> => {
    calls[name] = (calls[name] ?? 0) + 1
    if (faults.requireToken !== '' && metadata.get('authorization')[0] !== `Bearer ${faults.requireToken}`) {
      throw rpcError(grpc.status.UNAUTHENTICATED, 'bad or missing bearer token')
    }
    if (faults.resourceExhausted > 0) {
      faults.resourceExhausted--
      throw rpcError(grpc.status.RESOURCE_EXHAUSTED, 'central is overloaded (test fault)')
    }
    if (faults.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.delayMs))
  }
  type AnyCall = { metadata: grpc.Metadata, request?: unknown, destroy?: (e: Error) => void, write?: (m: unknown) => boolean }
  type AnyHandler = (call: AnyCall, callback?: (e: unknown, r?: unknown) => void) => void
  const wrap = <H extends object>(handlers: H): H => {
    const out: Record<string, AnyHandler> = {}
    for (const [name, handler] of Object.entries(handlers) as Array<[string, AnyHandler]>) {
      out[name] = (call, callback) => {
        if (name === 'Read') readRequests.push({ resourceName: (call.request as ReadCall['request']).resourceName, readOffset: Number((call.request as ReadCall['request']).readOffset) })
        gate(name, call.metadata).then(() => {
          if (name === 'Read') instrumentRead(call as unknown as ReadCall, faults)
          if (name === 'BatchReadBlobs') {
            const digests = (call.request as { digests: Array<{ sizeBytes: number | string }> }).digests
            const bytes = digests.reduce((sum, d) => sum + Number(d.sizeBytes), 0)
            batchReads.push({ blobs: digests.length, bytes })
            if (faults.maxBatchBytes > 0 && bytes > faults.maxBatchBytes) {
              throw rpcError(grpc.status.INVALID_ARGUMENT, `BatchReadBlobs asks for ${bytes} bytes; the limit is ${faults.maxBatchBytes}`)
            }
          }
          const cb = callback === undefined
            ? undefined
            : (e: unknown, r?: unknown): void => {
                if (name === 'BatchReadBlobs' && r != null && (faults.corruptReads || faults.corruptHashes.length > 0)) {
                  // The CAS service answers BatchReadBlobs pre-encoded: decode, corrupt, encode again.
                  const service = reapi.ContentAddressableStorage.service.BatchReadBlobs
                  const answer = Buffer.isBuffer(r) ? service.responseDeserialize(r) : r as ReturnType<typeof service.responseDeserialize>
                  for (const entry of answer.responses) {
                    if (entry.data.byteLength > 0 && (faults.corruptReads || faults.corruptHashes.includes(entry.digest?.hash ?? ''))) entry.data = flip(entry.data)
                  }
                  callback(e, Buffer.isBuffer(r) ? service.responseSerialize(answer) : answer)
                  return
                }
                callback(e, r)
              }
          handler(call, cb)
        }).catch((error: unknown) => {
          if (callback !== undefined) callback(error); else call.destroy?.(error as Error)
        })
      }
    }
    return out as H
  }

  const server = new grpc.Server(SERVER_OPTIONS)
  const capabilities = createCapabilitiesService()
  server.addService(casServiceDefinition(), wrap(createCasService({ store, resolver })))
  server.addService(byteStreamServiceDefinition(), wrap(createByteStreamService({ store, resolver }).handlers))
  const signer = new ResultSigner(await generateKeyPair('Ed25519'))
  const policy = new TrustPolicy({ mode: 'none', listed: [], revoked: [], self: signer.peerId })
  const ac = createActionCacheService({ names: new NamedResultResolver({ index: store.names, blobs: resolver, rules: [actionResultRule], policy, signer }) })
  server.addService(actionCacheServiceDefinition(), wrap({
    GetActionResult: ac.GetActionResult,
    UpdateActionResult: ((call, callback) => {
      if (faults.refuseAcUpdates) { callback(rpcError(grpc.status.PERMISSION_DENIED, 'this central does not accept action-cache updates')); return }
      ac.UpdateActionResult(call, callback)
    }) as typeof ac.UpdateActionResult
  }))
  server.addService(reapi.Capabilities.service, wrap({
    GetCapabilities: ((call, callback) => {
      if (!faults.refuseAcUpdates && faults.maxBatchBytes === 0) { capabilities.GetCapabilities(call, callback); return }
      const caps = serverCapabilities()
      const cache = { ...caps.cacheCapabilities }
      if (faults.refuseAcUpdates) cache.actionCacheUpdateCapabilities = { updateEnabled: false }
      if (faults.maxBatchBytes > 0) cache.maxBatchTotalSizeBytes = faults.maxBatchBytes
      callback(null, { ...caps, cacheCapabilities: cache })
    }) as typeof capabilities.GetCapabilities
  }))
  const credentials = opts.tls === undefined
    ? grpc.ServerCredentials.createInsecure()
    : grpc.ServerCredentials.createSsl(opts.tls.clientCa ?? null, [{ private_key: opts.tls.key, cert_chain: opts.tls.cert }], opts.tls.clientCa !== undefined)
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${opts.port ?? 0}`, credentials, (error, p) => { if (error != null) reject(error); else resolve(p) })
  })
  return {
    port,
    endpoint: opts.tls === undefined ? `grpc://127.0.0.1:${port}` : `grpcs://127.0.0.1:${port}`,
    store,
    faults,
    calls,
    readRequests,
    batchReads,
    async stop (removeData = true) {
      server.forceShutdown()
      await store.close()
      if (removeData) await rm(dataDir, { recursive: true, force: true })
    }
  }
}

/** The parts of a ByteStream.Read server call {@link instrumentRead} touches. */
interface ReadCall {
  request: { resourceName: string, readOffset: number | string }
  write: (message: unknown) => boolean
  end: () => void
  emit: (event: string, ...args: unknown[]) => boolean
}

/**
 * Applies the read faults to one ByteStream.Read: corrupts, or cuts the stream short after a
 * number of bytes (UNAVAILABLE, or a stall that never ends). Messages are counted exactly, so a
 * cut after N bytes delivers N bytes to the client.
 */
function instrumentRead (call: ReadCall, faults: CentralFaults): void {
  const readOffset = Number(call.request.readOffset)
  if (faults.refuseReadOffset && readOffset > 0) {
    // Answer INVALID_ARGUMENT and let the handler's writes go nowhere (grpc-js ends the call
    // from its 'error' listener with end(), which must get through once).
    call.write = () => true
    call.emit('error', rpcError(grpc.status.INVALID_ARGUMENT, 'read_offset is not supported (test fault)'))
    call.end = () => {}
    return
  }
  const hash = /blobs\/([0-9a-f]{64})\//.exec(call.request.resourceName)?.[1] ?? ''
  const corrupt = faults.corruptReads || (faults.corruptResumedReads && readOffset > 0) || faults.corruptHashes.includes(hash)
  const cut = faults.cutRead ?? undefined
  if (cut !== undefined) {
    const times = (cut.times ?? 1) - 1
    faults.cutRead = times > 0 ? { ...cut, times } : null
  }
  if (!corrupt && cut === undefined) return
  const write = call.write.bind(call)
  const end = call.end.bind(call)
  let sent = 0
  let corrupted = false
  let stopped = false
  call.write = (message: unknown) => {
    if (stopped) return true
    let data = readResponseData(message)
    if (corrupt && !corrupted && data.byteLength > 0) { data = flip(data); corrupted = true }
    if (cut !== undefined && sent + data.byteLength >= cut.afterBytes) {
      const head = data.subarray(0, cut.afterBytes - sent)
      sent += head.byteLength
      stopped = true
      if (head.byteLength > 0) write({ data: head })
      if (cut.how === 'unavailable') {
        // grpc-js ends the call from its 'error' listener, with this.end(): let that one through.
        call.end = end
        call.emit('error', rpcError(grpc.status.UNAVAILABLE, `stream cut after ${sent} bytes (test fault)`))
        call.end = () => {}
      }
      return true
    }
    sent += data.byteLength
    return write({ data })
  }
  call.end = () => { if (!stopped) end() }
}

/** The data of a ReadResponse: a `{ data }` object, or one pre-encoded by the service (field 10). */
function readResponseData (message: unknown): Buffer {
  if (!Buffer.isBuffer(message)) return (message as { data: Buffer }).data
  if (message[0] !== 0x52) throw new Error(`unexpected pre-encoded ReadResponse tag ${message[0]}`)
  let length = 0
  let at = 1
  for (let shift = 1; ; shift *= 128) {
    const byte = message[at++]!
    length += (byte & 0x7f) * shift
    if (byte < 0x80) break
  }
  return message.subarray(at, at + length)
}

function flip (data: Buffer): Buffer {
  const copy = Buffer.from(data)
  copy[0] = copy[0]! ^ 0xff
  return copy
}

/** A free TCP port on 127.0.0.1 (bound and released; good enough on loopback). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => { resolve(port) })
    })
  })
}

/** A TCP proxy on loopback in front of a central that can reset its connections mid-stream. */
export interface ResettingProxy {
  readonly port: number
  /** `grpc://127.0.0.1:PORT` of the proxy. */
  readonly endpoint: string
  /** Connections reset so far. */
  readonly resets: number
  /**
   * Once `bytes` more bytes have gone from the central to the client, resets that connection
   * (TCP RST to the client) and closes its upstream side. Once.
   */
  resetAfter(bytes: number): void
  stop(): Promise<void>
}

/** Starts a {@link ResettingProxy} to `127.0.0.1:targetPort`. */
export async function startResettingProxy (targetPort: number): Promise<ResettingProxy> {
  let armed: number | undefined
  let resets = 0
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    const close = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on('error', close).on('close', close)
    upstream.on('error', close).on('close', close)
    client.pipe(upstream)
    upstream.on('data', (chunk: Buffer) => {
      if (armed !== undefined) {
        if (chunk.byteLength >= armed) {
          const head = chunk.subarray(0, armed)
          armed = undefined
          resets++
          client.write(head, () => { client.resetAndDestroy(); upstream.destroy() })
          upstream.pause()
          return
        }
        armed -= chunk.byteLength
      }
      if (!client.write(chunk)) {
        upstream.pause()
        client.once('drain', () => upstream.resume())
      }
    })
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => { resolve((server.address() as { port: number }).port) })
  })
  return {
    port,
    endpoint: `grpc://127.0.0.1:${port}`,
    get resets () { return resets },
    resetAfter (bytes) { armed = bytes },
    async stop () {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    }
  }
}

/** The Debian python that has BuildStream installed (not a pyenv python on PATH). */
export const BUILDSTREAM_PYTHON = '/usr/bin/python3'

/** True if BuildStream's CAS server can be imported. */
export function hasBuildStream (): boolean {
  try {
    execFileSync(BUILDSTREAM_PYTHON, ['-c', 'import buildstream._artifactcache.casserver'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** A running BuildStream 1.6.8 CAS server. */
export interface BuildStreamCentral {
  readonly port: number
  readonly endpoint: string
  readonly clients: ReapiClients
  stop(): Promise<void>
}

/**
 * Starts BuildStream's CAS server (`--enable-push`) on a free loopback port and waits until it
 * answers GetCapabilities. It has CAS, ByteStream and Capabilities but no ActionCache, a 1 MiB
 * batch limit, and accepts only the empty instance name.
 */
export async function startBuildStreamCentral (opts: { port?: number } = {}): Promise<BuildStreamCentral> {
  const dir = await makeTempDir('peercas-bst-')
  await mkdir(join(dir, 'repo'), { recursive: true })
  const port = opts.port ?? await freePort()
  const child: ChildProcess = spawn(BUILDSTREAM_PYTHON, ['-c', "import sys; from buildstream._artifactcache.casserver import server_main; sys.argv[0]='casserver'; server_main()",
    '--port', String(port), '--enable-push', '--head-room-min', '100000000', '--head-room-max', '200000000', join(dir, 'repo')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString() })
  const clients = createClients(`127.0.0.1:${port}`)
  const deadline = Date.now() + 20_000
  for (;;) {
    try {
      await unary(clients.capabilities.GetCapabilities.bind(clients.capabilities), { instanceName: '' }, { deadline: Date.now() + 1000 })
      break
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL')
        clients.close()
        throw new Error(`BuildStream CAS server did not start: ${(error as Error).message}\n${stderr}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  return {
    port,
    endpoint: `grpc://127.0.0.1:${port}`,
    clients,
    async stop () {
      clients.close()
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGKILL')
        await exited
      }
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** PEM files for TLS tests, made by openssl in `dir`. */
export interface TlsMaterial {
  caCert: string
  serverKey: string
  serverCert: string
  clientKey: string
  clientCert: string
  /** A CA that signed nothing here (for mismatch tests). */
  otherCaCert: string
}

/** Generates a CA, a server cert for localhost/127.0.0.1 and a client cert, all signed by the CA. */
export function makeTlsMaterial (dir: string): TlsMaterial {
  const run = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }) }
  const ca = (name: string): void => {
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`)
  }
  const leaf = (name: string, ext: string): void => {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`)
    execFileSync('sh', ['-c', `printf '%s\\n' '${ext}' > ${name}.ext`], { cwd: dir })
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`)
  }
  ca('ca')
  ca('other-ca')
  leaf('server', 'subjectAltName=DNS:localhost,IP:127.0.0.1')
  leaf('client', 'extendedKeyUsage=clientAuth')
  return {
    caCert: join(dir, 'ca.crt'),
    serverKey: join(dir, 'server.key'),
    serverCert: join(dir, 'server.crt'),
    clientKey: join(dir, 'client.key'),
    clientCert: join(dir, 'client.crt'),
    otherCaCert: join(dir, 'other-ca.crt')
  }
}

/** What {@link remoteHarness} returns. */
export interface RemoteHarness {
  /** Run after each test, last added first (tests may add their own). */
  cleanups: Array<() => Promise<void>>
  /** Starts a faulty central, stopped after the test (after the nodes). */
  central(opts?: Parameters<typeof startFaultyCentral>[0]): Promise<FaultyCentral>
  /** Starts an in-process node with `remote` over `remoteDefaults`, stopped after the test. */
  node(remote?: Record<string, unknown>): Promise<TestNode>
}

/**
 * The set-up of a describe block that tests nodes against faulty centrals: registers an
 * afterEach that stops nodes first, then centrals and anything else added to `cleanups`.
 */
export function remoteHarness (remoteDefaults: Record<string, unknown>): RemoteHarness {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup()
    cleanups.length = 0
  })
  return {
    cleanups,
    async central (opts = {}) {
      const c = await startFaultyCentral(opts)
      cleanups.push(async () => { await c.stop() })
      return c
    },
    async node (remote = {}) {
      const n = await startTestNode({ remote: { ...remoteDefaults, ...remote } })
      cleanups.unshift(async () => { await n.stop() })
      return n
    }
  }
}

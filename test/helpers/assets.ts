// Helpers for the Remote Asset and BuildStream ReferenceStorage tests: typed clients, a local
// HTTP origin with request counting, and directory trees written through a node.

import * as grpc from '@grpc/grpc-js'
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FetchClient } from '../../node/generated/build/bazel/remote/asset/v1/Fetch.js'
import type { PushClient } from '../../node/generated/build/bazel/remote/asset/v1/Push.js'
import type { ReferenceStorageClient } from '../../node/generated/buildstream/v2/ReferenceStorage.js'
import { buildstream, remoteAsset } from '../../node/reapi/protos.js'
import { reapiMessages } from '../../node/domain/messages.js'
import { digestOf, type Digest } from '../../node/store/digest.js'
import type { ReapiClients } from '../../node/reapi/clients.js'
import { writeBlobs, type TestBlob } from './remote-blobs.js'

/** Clients of the Remote Asset and ReferenceStorage services. */
export interface AssetClients {
  fetch: FetchClient
  push: PushClient
  refs: ReferenceStorageClient
  close(): void
}

/** Connects asset clients to `target` (`unix:/…` or `127.0.0.1:PORT`). */
export function createAssetClients (target: string): AssetClients {
  const credentials = grpc.credentials.createInsecure()
  const fetch = new remoteAsset.Fetch(target, credentials)
  const channelOverride = fetch.getChannel()
  return {
    fetch,
    push: new remoteAsset.Push(target, credentials, { channelOverride }),
    refs: new buildstream.ReferenceStorage(target, credentials, { channelOverride }),
    close () { fetch.close() }
  }
}

/** `sha256-<base64>` of `data`. */
export function sriOf (data: Buffer, algorithm: 'sha256' | 'sha384' | 'sha512' = 'sha256'): string {
  return `${algorithm}-${createHash(algorithm).update(data).digest('base64')}`
}

/** A local HTTP origin serving fixed paths; counts the requests each path got. */
export interface TestOrigin {
  /** `http://127.0.0.1:PORT` */
  url: string
  /** Serves `body` at `path` (a function answers the request itself). */
  serve(path: string, body: Buffer | ((req: IncomingMessage, res: ServerResponse) => void)): void
  hits(path: string): number
  stop(): Promise<void>
}

/** Starts a {@link TestOrigin} on 127.0.0.1, port 0. Unknown paths answer 404. */
export async function startTestOrigin (): Promise<TestOrigin> {
  const routes = new Map<string, Buffer | ((req: IncomingMessage, res: ServerResponse) => void)>()
  const counts = new Map<string, number>()
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    counts.set(path, (counts.get(path) ?? 0) + 1)
    const route = routes.get(path)
    if (route === undefined) { res.writeHead(404).end('not here'); return }
    if (typeof route === 'function') { route(req, res); return }
    res.writeHead(200, { 'content-length': route.byteLength, 'content-type': 'application/octet-stream' }).end(route)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    serve (path, body) { routes.set(path, body) },
    hits (path) { return counts.get(path) ?? 0 },
    async stop () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** A two-level directory tree: its root digest and every blob (Directories and files). */
export interface TestTree { root: Digest, blobs: TestBlob[], files: TestBlob[] }

/** Builds a tree `root/{a.txt, sub/b.txt}` with random-ish contents from `seed`. */
export function makeTree (seed: string): TestTree {
  const blob = (data: Buffer): TestBlob => ({ digest: digestOf(data), data })
  const a = blob(Buffer.from(`file a of ${seed}\n`))
  const b = blob(Buffer.from(`file b of ${seed}\n`.repeat(100)))
  const sub = blob(reapiMessages.Directory.serialize({ files: [{ name: 'b.txt', digest: b.digest, isExecutable: false }] }))
  const root = blob(reapiMessages.Directory.serialize({ files: [{ name: 'a.txt', digest: a.digest, isExecutable: false }], directories: [{ name: 'sub', digest: sub.digest }] }))
  return { root: root.digest, blobs: [a, b, sub, root], files: [a, b] }
}

/** Writes every blob of a tree through a node. */
export async function writeTree (clients: ReapiClients, tree: TestTree): Promise<void> {
  await writeBlobs(clients, tree.blobs)
}

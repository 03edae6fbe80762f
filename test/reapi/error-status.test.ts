import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { status } from '@grpc/grpc-js'
import { REPO_ROOT } from '../helpers/process.js'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { collect, expectRpcError } from '../helpers/grpc.js'
import { PeercasError, Status } from '../../node/domain/status.js'
import { rpcError, statusOf, toRpcError, batchStatusOf } from '../../node/reapi/errors.js'
import { P2pDisabledError } from '../../node/p2p/index.js'
import { RemoteNotConfiguredError } from '../../node/remote/index.js'
import { digestOf } from '../../node/store/digest.js'
import { InvalidTreeError } from '../../node/domain/tree.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- constructors of every shape
type ErrorClass = new (...args: any[]) => Error

/** Every `errors.ts` under node/. */
async function errorModules (): Promise<string[]> {
  const entries = await readdir(join(REPO_ROOT, 'node'), { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile() && e.name === 'errors.ts').map((e) => join(e.parentPath, e.name))
}

/** Constructor arguments for the classes that take more than a message. */
const digest = digestOf(Buffer.from('x'))
const ARGS: Record<string, unknown[]> = {
  DigestMismatchError: [digest, 'b'.repeat(64), 1],
  BlobTooLongError: [digest, '', 2],
  BlobTooLargeError: [digest, 0],
  StoreClosedError: []
}

/** The exported error classes of node/**\/errors.ts, plus the two that live beside their service. */
async function errorClasses (): Promise<Array<[string, ErrorClass]>> {
  const found: Array<[string, ErrorClass]> = [['p2p/index.ts P2pDisabledError', P2pDisabledError], ['remote/index.ts RemoteNotConfiguredError', RemoteNotConfiguredError]]
  for (const file of await errorModules()) {
    const module = await import(pathToFileURL(file).href) as Record<string, unknown>
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === 'function' && value.prototype instanceof Error) found.push([`${relative(join(REPO_ROOT, 'node'), file)} ${name}`, value as ErrorClass])
    }
  }
  return found
}

describe('errors carry their status', () => {
  it('maps every exported error class to the status it declares, never INTERNAL', async () => {
    const classes = await errorClasses()
    expect(classes.length).toBeGreaterThan(25)
    for (const [where, Class] of classes) {
      const error = new Class(...(ARGS[Class.name] ?? [`a ${Class.name} for the test`]))
      expect(error, where).toBeInstanceOf(PeercasError)
      const declared = (error as PeercasError).status
      expect(Object.values(Status), where).toContain(declared)
      expect(statusOf(error), where).toBe(declared)
      expect(status[statusOf(error)], where).not.toBe('INTERNAL')
      expect(status[statusOf(error)], where).not.toBe('OK')
      expect(error.name, where).toBe(Class.name)
      const rpc = toRpcError(error)
      expect(rpc.code, where).toBe(declared)
      expect(rpc.details, where).toBe(error.message)
      expect(batchStatusOf(error), where).toEqual({ code: declared, message: error.message })
    }
  })

  it('answers a switched-off feature with FAILED_PRECONDITION and a peer it cannot use with INVALID_ARGUMENT', async () => {
    const byName = new Map((await errorClasses()).map(([, Class]) => [Class.name, Class]))
    const statusName = (name: string, ...args: unknown[]): string => status[statusOf(new (byName.get(name)!)(...(args.length > 0 ? args : ['m'])))]
    expect(statusName('P2pDisabledError')).toBe('FAILED_PRECONDITION')
    expect(statusName('RemoteNotConfiguredError')).toBe('FAILED_PRECONDITION')
    expect(statusName('UnknownPeerError')).toBe('INVALID_ARGUMENT')
    expect(statusName('BlobTooLargeError', digest, 0)).toBe('RESOURCE_EXHAUSTED')
    expect(statusName('CentralOfflineError')).toBe('UNAVAILABLE')
    expect(statusName('CentralTimeoutError')).toBe('DEADLINE_EXCEEDED')
    expect(statusName('NotFoundError')).toBe('NOT_FOUND')
    expect(status[statusOf(new InvalidTreeError('m'))]).toBe('INVALID_ARGUMENT')
  })

  it('passes on an error built at the edge with rpcError, unchanged', () => {
    const cancelled = rpcError(status.CANCELLED, 'the client cancelled the call')
    expect(statusOf(cancelled)).toBe(status.CANCELLED)
    expect(toRpcError(cancelled)).toBe(cancelled)
  })

  it('maps a foreign error to INTERNAL even when it has a numeric code', () => {
    // A grpc-js error as the central's client delivers it: its code is the central's answer to
    // another call, not ours to repeat.
    const fromCentral = Object.assign(new Error('5 NOT_FOUND: missing'), { code: status.NOT_FOUND, details: 'missing', metadata: {} })
    const systemError = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', errno: -2 })
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError') // code 23
    for (const error of [fromCentral, systemError, timeout, new Error('bug'), 'a string', undefined]) {
      expect(status[statusOf(error)], String(error)).toBe('INTERNAL')
      expect(status[toRpcError(error).code], String(error)).toBe('INTERNAL')
    }
    expect(toRpcError(fromCentral).details).toBe('5 NOT_FOUND: missing')
  })
})

describe('admin streams on a node without the feature they need', () => {
  let node: TestNode
  beforeAll(async () => { node = await startTestNode() })
  afterAll(async () => { await node.stop() })

  it('answers Flush on a node without a central CAS with FAILED_PRECONDITION and says why', async () => {
    await expectRpcError(collect(node.clients.admin.Flush({ timeoutSeconds: 5 })), status.FAILED_PRECONDITION, /no central CAS is configured/)
  })

  it('answers Sync on a node with p2p disabled with FAILED_PRECONDITION and says why', async () => {
    await expectRpcError(collect(node.clients.admin.Sync({ peer: '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN', sinceSeconds: 0, acOnly: false })), status.FAILED_PRECONDITION, /p2p is disabled/)
  })
})

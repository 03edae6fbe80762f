import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { startTestNode, makeTempDir } from '../helpers/node.js'
import { makeTlsMaterial, startFaultyCentral, type FaultyCentral, type TlsMaterial } from '../helpers/remote-central.js'
import { flushNode, randomBlobs, readBlob, writeBlobs } from '../helpers/remote-blobs.js'

describe('a central CAS over TLS', () => {
  let dir: string
  let tls: TlsMaterial
  let central: FaultyCentral

  beforeAll(async () => {
    dir = await makeTempDir('peercas-tls-')
    tls = makeTlsMaterial(dir)
    central = await startFaultyCentral({
      tls: { key: readFileSync(tls.serverKey), cert: readFileSync(tls.serverCert), clientCa: readFileSync(tls.caCert) }
    })
  })
  afterAll(async () => {
    await central?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('uploads and reads back over mutual TLS with a custom CA', async () => {
    const remote = { endpoint: central.endpoint, tlsCa: tls.caCert, tlsCert: tls.clientCert, tlsKey: tls.clientKey, callTimeout: '3s', clientWait: '2s' }
    const a = await startTestNode({ remote })
    const b = await startTestNode({ remote })
    try {
      expect(a.remote!.status().online).toBe(true)
      const blobs = randomBlobs([500, 2 * 1024 * 1024])
      await writeBlobs(a.clients, blobs)
      await flushNode(a)
      expect(await central.store.findMissing(blobs.map((x) => x.digest))).toEqual([])
      for (const blob of blobs) expect((await readBlob(b.clients, blob.digest))?.equals(blob.data)).toBe(true)
    } finally {
      await a.stop()
      await b.stop()
    }
  })

  it('stays offline with a clear error when the server certificate is not signed by the configured CA', async () => {
    const n = await startTestNode({ remote: { endpoint: central.endpoint, tlsCa: tls.otherCaCert, tlsCert: tls.clientCert, tlsKey: tls.clientKey, callTimeout: '2s', clientWait: '1s' } })
    try {
      const status = n.remote!.status()
      expect(status.online).toBe(false)
      expect(status.lastError).toMatch(/certificate|self.signed|verify|handshake|SSL|TLS/i)
      const started = Date.now()
      const blobs = randomBlobs([100])
      await writeBlobs(n.clients, blobs)
      expect(await readBlob(n.clients, blobs[0]!.digest)).toBeDefined()
      expect(Date.now() - started).toBeLessThan(1000)
      expect(n.remote!.status().queueLength).toBe(1)
    } finally {
      await n.stop()
    }
  })

  it('stays offline when the central requires a client certificate and none is configured', async () => {
    const n = await startTestNode({ remote: { endpoint: central.endpoint, tlsCa: tls.caCert, callTimeout: '2s', clientWait: '1s' } })
    try {
      expect(n.remote!.status().online).toBe(false)
      expect(n.remote!.status().lastError).not.toBe('')
    } finally {
      await n.stop()
    }
  })

  it('refuses TLS files with a plain grpc:// endpoint at start', async () => {
    await expect(startTestNode({ remote: { endpoint: 'grpc://127.0.0.1:1', tlsCa: tls.caCert } })).rejects.toThrow(/grpcs/)
  })
})

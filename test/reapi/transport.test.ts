import { describe, it, expect, afterAll, beforeAll } from 'vitest'
import { connect, type ClientHttp2Session } from 'node:http2'
import { connect as netConnect } from 'node:net'
import { startTestNode, type TestNode } from '../helpers/node.js'
import { STREAM_RECEIVE_WINDOW_BYTES } from '../../node/reapi/grpc-server.js'

/** Settings the server sent on a new HTTP/2 connection over its unix socket, once they include `want`. */
async function serverSettingsOn (socketPath: string, want: (s: ClientHttp2Session['remoteSettings']) => boolean): Promise<ClientHttp2Session['remoteSettings']> {
  const session = connect('http://localhost', { createConnection: () => netConnect(socketPath) })
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`server settings never matched: ${JSON.stringify(session.remoteSettings)}`)) }, 5000)
      session.on('remoteSettings', (settings) => { if (want(settings)) { clearTimeout(timer); resolve(settings) } })
      session.on('error', reject)
    })
  } finally {
    session.close()
  }
}

describe('gRPC transport', () => {
  let node: TestNode
  beforeAll(async () => { node = await startTestNode() })
  afterAll(async () => { await node.stop() })

  it('grants clients a 1 MiB per-stream receive window instead of HTTP/2\'s 64 KiB, so large writes do not stall', async () => {
    const settings = await serverSettingsOn(node.socketPath, (s) => s.initialWindowSize !== 65535)
    expect(settings.initialWindowSize).toBe(STREAM_RECEIVE_WINDOW_BYTES)
  })
})

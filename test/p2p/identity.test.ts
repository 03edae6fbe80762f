import { describe, expect, it } from 'vitest'
import { stat, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { makeTempDir } from '../helpers/node.js'
import { startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}

describe('p2p identity and static peers', () => {
  it('keeps the peer ID across a restart, keeps the key file private, and static peers redial it', async () => {
    const dataDir = await makeTempDir()
    const listen = [`/ip4/127.0.0.1/tcp/${await freePort()}`]
    const first = await startP2pTestNode({ dataDir, keepData: true, p2p: { listen } })
    const id = first.p2p.peerId
    const other = await startP2pTestNode({ peers: [first.p2p.addresses[0]!] })
    try {
      expect(first.info.peerId).toBe(id)
      expect(first.p2p.addresses[0]).toBe(`${listen[0]}/p2p/${id}`)
      await waitFor(() => other.p2p.peers().some((p) => p.peerId === id && p.connected), 'the static peer to connect')
      await first.stop()
      expect((await stat(join(dataDir, 'p2p-identity.key'))).mode & 0o777).toBe(0o600)
      await waitFor(() => !other.p2p.peers().some((p) => p.peerId === id && p.connected), 'the disconnect to be noticed')
      const second = await startP2pTestNode({ dataDir, keepData: true, p2p: { listen } })
      try {
        expect(second.p2p.peerId).toBe(id)
        await waitFor(() => other.p2p.peers().some((p) => p.peerId === id && p.connected), 'the static peer to be redialled', 15_000)
      } finally {
        await second.stop()
      }
    } finally {
      await other.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})

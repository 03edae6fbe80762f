import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { readFile, rm } from 'node:fs/promises'
import { digestOf } from '../../node/store/digest.js'
import { LocalStore } from '../../node/store/local-store.js'
import { runPeercas, type PeercasProcess } from '../helpers/process.js'
import { makeTempDir } from '../helpers/node.js'
import { TEST_PSK_FILE, readBlob, startBarePeer, startP2pTestNode, waitFor } from '../helpers/p2p-nodes.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { while (cleanups.length > 0) await cleanups.pop()!().catch(() => {}) })

describe('a peer killed in the middle of a transfer', () => {
  it('makes the fetch move on to the next candidate', async () => {
    const data = randomBytes(8 * 1024 * 1024)
    const digest = digestOf(data)

    // The doomed peer is a real `peercas serve` child process, slowed to 1 MB/s so it is
    // certainly mid-blob when it is killed.
    const dir = await makeTempDir('peercas-doomed-')
    cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const seed = await LocalStore.open({ dataDir: dir, maxSizeBytes: 1 << 30 })
    await seed.put(digest, data)
    await seed.close()
    const doomed: PeercasProcess = runPeercas(['serve', '--data-dir', dir, '--p2p-listen', '/ip4/127.0.0.1/tcp/0', '--psk', TEST_PSK_FILE, '--no-mdns'], { PEERCAS_P2P_MAX_SERVE_RATE_PER_PEER: '1MB' })
    cleanups.push(async () => { doomed.child.kill('SIGKILL'); await doomed.exited })
    await doomed.ready
    const info = JSON.parse(await readFile(join(dir, 'node.json'), 'utf8')) as { peerId: string, p2p: string[] }

    const honest = await startBarePeer()
    cleanups.push(honest.stop)
    await honest.store.put(digest, data)

    const node = await startP2pTestNode({ peers: [info.p2p[0]!] })
    cleanups.push(node.stop)
    await waitFor(() => node.p2p.candidates(digest).length === 1, 'the doomed peer to announce the blob')
    await node.p2p.dial(honest.p2p.addresses[0]!)
    await waitFor(() => node.p2p.candidates(digest).length === 2, 'both peers to announce the blob')
    expect(node.p2p.candidates(digest)[0]).toBe(info.peerId)

    const started = Date.now()
    const read = readBlob(node, digest)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    doomed.child.kill('SIGKILL')
    expect((await read).equals(data)).toBe(true)
    // Well under the 8 s the slowed peer would have needed, and nobody was banned for it.
    expect(Date.now() - started).toBeLessThan(6000)
    expect(node.p2p.peers().find((p) => p.peerId === honest.p2p.peerId)!.bytesFetchedFrom).toBe(data.byteLength)
    expect(node.p2p.peers().every((p) => !p.banned)).toBe(true)
  })
})

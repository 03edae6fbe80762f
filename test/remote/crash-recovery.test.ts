import { afterAll, describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { createClients, unary, type ReapiClients } from '../../node/reapi/clients.js'
import { makeTempDir } from '../helpers/node.js'
import { peercas, runPeercas, type PeercasProcess } from '../helpers/process.js'
import { freePort, startFaultyCentral, type FaultyCentral } from '../helpers/remote-central.js'
import { randomBlobs, waitFor, writeBlobs } from '../helpers/remote-blobs.js'

// The queue lives in LevelDB: SIGKILL a node with a full queue, restart it, nothing is lost.
describe('the upload queue across a kill -9', () => {
  const dirs: string[] = []
  let child: PeercasProcess | undefined
  let central: FaultyCentral | undefined
  let clients: ReapiClients | undefined
  afterAll(async () => {
    clients?.close()
    if (child?.child.exitCode === null) { child.child.kill('SIGKILL'); await child.exited }
    await central?.stop()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('drains every queued blob after a crash and restart', async () => {
    const dataDir = await makeTempDir()
    dirs.push(dataDir)
    const port = await freePort()
    const serveArgs = ['serve', '--data-dir', dataDir, '--no-p2p', '--remote', `grpc://127.0.0.1:${port}`, '--log-level', 'warn']
    child = runPeercas(serveArgs)
    await child.ready
    clients = createClients(`unix:${join(dataDir, 'cas.sock')}`)
    const blobs = randomBlobs([...Array.from({ length: 150 }, (_, i) => 100 + i * 131), 700_000, 2 * 1024 * 1024, 5 * 1024 * 1024])
    await writeBlobs(clients, blobs)
    const queued = async (): Promise<number> => Number((await unary(clients!.admin.GetStatus.bind(clients!.admin), {})).remote?.queueLength ?? 0)
    await waitFor(async () => (await queued()) === blobs.length, 'every blob to be queued')
    // Give LevelDB's write of the last batch a moment to reach the log (it is not fsynced per op).
    await new Promise((resolve) => setTimeout(resolve, 200))
    child.child.kill('SIGKILL')
    expect((await child.exited).signal).toBe('SIGKILL')
    clients.close()
    clients = undefined

    central = await startFaultyCentral({ port })
    child = runPeercas(serveArgs)
    await child.ready
    const flushed = await peercas(['flush', '--data-dir', dataDir, '--timeout', '60s'])
    expect(flushed.code, flushed.stderr + flushed.stdout).toBe(0)
    expect(await central.store.findMissing(blobs.map((b) => b.digest))).toEqual([])
    expect(existsSync(join(dataDir, 'node.json'))).toBe(true)
  })
})

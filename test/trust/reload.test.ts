import { afterEach, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { createClients, unary } from '../../node/reapi/clients.js'
import { digestOf } from '../../node/store/digest.js'
import { readNodeInfo } from '../../node/node.js'
import { makeTempDir } from '../helpers/node.js'
import { runPeercas, type PeercasProcess } from '../helpers/process.js'
import { expectRpcError } from '../helpers/grpc.js'
import { waitFor } from '../helpers/wait.js'

describe('peercas serve on SIGHUP', () => {
  let serve: PeercasProcess | undefined
  const dirs: string[] = []
  afterEach(async () => {
    serve?.child.kill('SIGKILL')
    await serve?.exited
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
  })

  it('applies trust.revoked from the reloaded config file and removes the revoked signer\'s entries', async () => {
    const dir = await makeTempDir('peercas-reload-')
    dirs.push(dir)
    const config = join(dir, 'peercas.yaml')
    await writeFile(config, `dataDir: ${JSON.stringify(join(dir, 'data'))}\np2p:\n  enabled: false\n`)
    serve = runPeercas(['serve', '--config', config])
    await serve.ready
    const info = readNodeInfo(join(dir, 'data'))!
    const clients = createClients(`unix:${info.socket}`)
    try {
      const action = digestOf(randomBytes(32))
      await unary(clients.actionCache.UpdateActionResult.bind(clients.actionCache), { actionDigest: action, actionResult: { exitCode: 0 } })
      // The node signs what its clients write with its own key: revoking itself is the simplest revocation to see.
      const peerId = (await unary(clients.admin.GetStatus.bind(clients.admin), {})).peerId
      expect(peerId).not.toBe('')
      await writeFile(config, `dataDir: ${JSON.stringify(join(dir, 'data'))}\np2p:\n  enabled: false\ntrust:\n  revoked: [${JSON.stringify(peerId)}]\n`)
      serve.child.kill('SIGHUP')
      await waitFor(() => serve!.stderr().includes('configuration reloaded'), 'the reload')
      await expectRpcError(unary(clients.actionCache.GetActionResult.bind(clients.actionCache), { actionDigest: action }), status.NOT_FOUND)
    } finally {
      clients.close()
    }
  })
})

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../node/config/load.js'
import { startNode, type RunningNode } from '../../node/node.js'
import { createLogger, type Logger } from '../../node/log/logger.js'
import { createClients, type ReapiClients } from '../../node/reapi/clients.js'

/** A node started for a test, with its clients and cleanup. */
export interface TestNode extends RunningNode {
  tcpAddresses: string[]
  socketPath: string
  dataDir: string
  /** Clients over the unix socket. */
  clients: ReapiClients
  /** Stops the node and deletes its data dir (unless `keepData`). */
  stop(graceMs?: number): Promise<void>
}

/**
 * Creates an empty temp directory for a test, inside the run's temp dir when there is one
 * (test/global-setup.ts removes it when the run ends, whatever a test left behind).
 */
export async function makeTempDir (prefix = 'peercas-test-'): Promise<string> {
  return await mkdtemp(join(process.env.PEERCAS_TEST_RUN_DIR ?? tmpdir(), prefix))
}

/**
 * Starts a real node on a temp data dir, with p2p and mDNS off unless asked for.
 * `flags` is shaped like the config (e.g. `{ maxSize: '1MiB', listen: ['127.0.0.1:0'] }`);
 * `opts.logger` receives the node's log lines (to check what it says).
 */
export async function startTestNode (flags: Record<string, unknown> = {}, opts: { dataDir?: string, keepData?: boolean, logger?: Logger } = {}): Promise<TestNode> {
  const dataDir = opts.dataDir ?? await makeTempDir()
  const config = loadConfig({
    env: {},
    flags: { dataDir, ...flags, p2p: { enabled: false, mdns: false, ...(flags.p2p as object ?? {}) } }
  })
  const logger = opts.logger ?? createLogger('peercas', { level: process.env.PEERCAS_TEST_LOG === '1' ? 'debug' : 'error' })
  const node = await startNode(config, { logger })
  const clients = createClients(`unix:${config.socket}`)
  return Object.assign(Object.create(node) as RunningNode, node, {
    tcpAddresses: node.info.tcp,
    socketPath: config.socket,
    dataDir,
    clients,
    async stop (graceMs?: number) {
      clients.close()
      await node.stop(graceMs)
      if (opts.keepData !== true) await rm(dataDir, { recursive: true, force: true })
    }
  })
}

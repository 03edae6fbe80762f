import * as grpc from '@grpc/grpc-js'
import { SERVE_USAGE } from './serve-usage.js'
import { parseArgs } from 'node:util'
import { createWriteStream } from 'node:fs'
import { loadConfig } from '../config/load.js'
import { createLogger, type Logger } from '../log/logger.js'
import { startNode } from '../node.js'
import { NO_TEAM_KEY_HINT, p2pModeOf } from '../p2p/index.js'
import { preflight } from './preflight.js'

/** `peercas serve`: starts a node and runs until SIGTERM/SIGINT. */
export async function serve (argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      'data-dir': { type: 'string' },
      socket: { type: 'string' },
      listen: { type: 'string', multiple: true },
      config: { type: 'string' },
      'max-size': { type: 'string' },
      'log-level': { type: 'string' },
      'log-file': { type: 'string' },
      'p2p-listen': { type: 'string', multiple: true },
      peer: { type: 'string', multiple: true },
      'trust-peer': { type: 'string', multiple: true },
      'trust-results': { type: 'string' },
      'revoke-peer': { type: 'string', multiple: true },
      environment: { type: 'string' },
      mdns: { type: 'boolean' },
      'no-mdns': { type: 'boolean' },
      'no-p2p': { type: 'boolean' },
      psk: { type: 'string' },
      'p2p-open': { type: 'boolean' },
      'listen-token': { type: 'string' },
      remote: { type: 'string' },
      'remote-instance': { type: 'string' },
      'remote-token-file': { type: 'string' },
      'remote-ca': { type: 'string' },
      'remote-cert': { type: 'string' },
      'remote-key': { type: 'string' },
      upload: { type: 'string' },
      'no-origin-fetch': { type: 'boolean' },
      'max-download-size': { type: 'string' },
      metrics: { type: 'string' },
      help: { type: 'boolean', short: 'h' }
    }
  })
  if (values.help === true) { process.stdout.write(SERVE_USAGE); return 0 }
  const flags: Record<string, unknown> = {
    dataDir: values['data-dir'],
    socket: values.socket,
    listen: values.listen,
    environment: values.environment,
    listenTokenFile: values['listen-token'],
    maxSize: values['max-size'],
    log: { level: values['log-level'], file: values['log-file'] },
    p2p: {
      enabled: values['no-p2p'] === true ? false : undefined,
      psk: values.psk,
      open: values['p2p-open'],
      listen: values['p2p-listen'],
      peers: values.peer,
      mdns: values['no-mdns'] === true ? false : values.mdns
    },
    trust: { peers: values['trust-peer'], results: values['trust-results'] as never, revoked: values['revoke-peer'] },
    metrics: { listen: values.metrics },
    remote: {
      endpoint: values.remote,
      instanceName: values['remote-instance'],
      tokenFile: values['remote-token-file'],
      tlsCa: values['remote-ca'],
      tlsCert: values['remote-cert'],
      tlsKey: values['remote-key'],
      upload: values.upload
    },
    assets: {
      originFetch: values['no-origin-fetch'] === true ? false : undefined,
      maxDownloadSize: values['max-download-size']
    }
  }
  const config = loadConfig({ file: values.config, flags })
  // Everything that can be checked is checked before anything starts: a failure is one line.
  await preflight(config)
  const logStream = config.log.file !== '' ? createWriteStream(config.log.file, { flags: 'a' }) : undefined
  const logger = createLogger('peercas', { level: config.log.level, write: logStream != null ? (line) => { logStream.write(line) } : undefined })
  // Signal handlers go in before anything else: a supervisor may send SIGTERM the moment it
  // sees the ready line (or during start-up), and the default action would kill the process
  // without a clean stop.
  let stopRequested: NodeJS.Signals | undefined
  let onStopRequested: ((signal: NodeJS.Signals) => void) | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopRequested !== undefined) {
      logger.warn('second signal: exiting without a clean stop', { signal })
      process.exit(1)
    }
    stopRequested = signal
    onStopRequested?.(signal)
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  routeForeignLogs(logger)

  const node = await startNode(config, { logger })
  const p2p = node.info.p2p !== undefined && node.info.p2p.length > 0 ? `, p2p ${node.info.p2p.join(' ')}` : ''
  const metrics = (await node.status()).metricsUrl
  process.stdout.write(`peercas ready: socket ${node.info.socket}${node.info.tcp.length > 0 ? `, tcp ${node.info.tcp.join(' ')}` : ''}${p2p}${metrics !== undefined && metrics !== '' ? `, dashboard ${metrics}/` : ''}, data ${config.dataDir}\n`)
  if (p2pModeOf(config) === 'no-team-key') process.stdout.write(`${NO_TEAM_KEY_HINT}\n`)

  // SIGHUP re-reads the configuration and applies its `trust` section: revoked signers' entries
  // go at once. Other settings need a restart (the log says so).
  process.on('SIGHUP', () => {
    void (async () => {
      const reloaded = loadConfig({ file: values.config, flags })
      const removed = await node.reloadTrust(reloaded.trust)
      logger.info('configuration reloaded: trust settings applied (other settings take effect at the next start)', { results: reloaded.trust.results, revoked: reloaded.trust.revoked.length, removed })
    })().catch((error) => { logger.error('configuration reload failed; the previous settings stay', { error }) })
  })

  return await new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info('stopping', { signal })
      node.stop().then(() => { logStream?.end(); resolve(0) }, (error) => {
        logger.error('clean stop failed', { error })
        resolve(1)
      })
    }
    if (stopRequested !== undefined) stop(stopRequested); else onStopRequested = stop
  })
}

/**
 * Sends what dependencies print on their own into the node's JSON log: grpc-js's log lines
 * (`No address added out of total 1 resolved` — the node reports the failure itself) at debug,
 * Node's process warnings (DEP0137, `Closing file descriptor … on garbage collection`) at warn.
 */
function routeForeignLogs (logger: Logger): void {
  const grpcLog = logger.child('grpc-js')
  grpc.setLogger({ error: (...args: unknown[]) => { grpcLog.debug(args.map(String).join(' ')) } } as unknown as Partial<Console>)
  grpc.setLogVerbosity(grpc.logVerbosity.ERROR)
  // Node prints warnings to stderr through a 'warning' listener of its own; ours replaces it.
  process.removeAllListeners('warning')
  const nodeLog = logger.child('node')
  process.on('warning', (warning: Error & { code?: string }) => {
    nodeLog.warn(warning.message, { warning: warning.name, code: warning.code })
  })
}

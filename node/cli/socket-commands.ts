import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { unary } from '../reapi/clients.js'
import { TARGET_OPTIONS, connectToNode, resolveTarget } from './target.js'
import { UsageError } from './client-commands.js'

const SOCKET_USAGE = `Usage:
  peercas socket open --environment ID [--path P] [--instance NAME]
                        serve REAPI for one build environment on a new unix socket; prints its path
  peercas socket close PATH
                        stop serving a socket made by \`socket open\`, and remove it`

/**
 * `peercas socket open|close`: a socket per sandbox. Named results written through it are keyed
 * by its build environment; blobs are shared with every other endpoint.
 */
export async function socket (argv: string[]): Promise<number> {
  const [action, ...rest] = argv
  if (action === '--help' || action === '-h') { process.stdout.write(SOCKET_USAGE + '\n'); return 0 }
  if (action !== 'open' && action !== 'close') throw new UsageError(`expected "socket open" or "socket close"\n${SOCKET_USAGE}`)
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: action === 'close',
    options: { ...TARGET_OPTIONS, environment: { type: 'string' }, path: { type: 'string' }, instance: { type: 'string' } }
  })
  const clients = await connectToNode(resolveTarget(values))
  try {
    if (action === 'open') {
      if (values.environment === undefined || values.environment === '') throw new UsageError(`socket open needs --environment ID\n${SOCKET_USAGE}`)
      const opened = await unary(clients.admin.OpenSocket.bind(clients.admin), { environment: values.environment, path: values.path === undefined ? '' : resolve(values.path), instance: values.instance ?? '' })
      process.stdout.write(`${opened.path}\n`)
      return 0
    }
    const path = positionals[0]
    if (path === undefined || positionals.length > 1) throw new UsageError(`socket close takes one PATH\n${SOCKET_USAGE}`)
    await unary(clients.admin.CloseSocket.bind(clients.admin), { path: resolve(path) })
    return 0
  } finally {
    clients.close()
  }
}

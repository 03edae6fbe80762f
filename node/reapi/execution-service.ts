import type { ExecutionHandlers } from '../generated/build/bazel/remote/execution/v2/Execution.js'
import { toRpcError } from './errors.js'
import { NotSupportedError } from '../domain/errors.js'

const MESSAGE = 'peercas is a cache-only node and does not execute actions: use it as --remote_cache (not --remote_executor)'

/** Execution: always UNIMPLEMENTED, with a message saying how to use this node instead. */
export function createExecutionService (): ExecutionHandlers {
  return {
    Execute (call) { call.emit('error', toRpcError(new NotSupportedError(MESSAGE))) },
    WaitExecution (call) { call.emit('error', toRpcError(new NotSupportedError(MESSAGE))) }
  }
}

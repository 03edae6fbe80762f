import type { ActionCacheHandlers } from '../generated/build/bazel/remote/execution/v2/ActionCache.js'
import type { ActionResult } from '../generated/build/bazel/remote/execution/v2/ActionResult.js'
import { actionResultName, type ResultName } from '../domain/names.js'
import type { Digest } from '../store/digest.js'
import { checkDigestFunction, digestFromMessage, validateInstanceName } from '../domain/resource-names.js'
import type { NamedResultResolver } from '../resolve/named-results.js'
import { toRpcError } from './errors.js'
import { InvalidRequestError, NotFoundError } from '../domain/errors.js'
import { reapi } from './protos.js'
import { answerUnary } from './call-writes.js'

/** What the ActionCache service needs. */
export interface ActionCacheServiceDeps {
  /** The named-result read path (action results are one kind of named result). */
  names: NamedResultResolver
  /** The build environment of the endpoint this service is on. @default '' (the default environment) */
  environment?: string
  /** If set, the instance name of every result through this endpoint, whatever the client sends. */
  instance?: string
}

/**
 * ActionCache over named results of kind `action-result`: GetActionResult answers only complete
 * results (every referenced blob reachable; see node/resolve/named-result-rules.ts), otherwise
 * NOT_FOUND; UpdateActionResult validates every digest the result names before storing it.
 */
export function createActionCacheService ({ names, environment = '', instance }: ActionCacheServiceDeps): ActionCacheHandlers {
  const nameOf = (requested: string | undefined, actionDigest: Digest): ResultName =>
    actionResultName(instance ?? validateInstanceName(requested), actionDigest, environment)
  return {
    GetActionResult (call, callback) {
      answerUnary(call, callback, async (signal) => {
        checkDigestFunction(call.request.digestFunction)
        const actionDigest = digestFromMessage(call.request.actionDigest, 'action_digest')
        const name = nameOf(call.request.instanceName, actionDigest)
        const result = await names.get(name, signal)
        if (result === undefined) {
          throw new NotFoundError(`no complete action result for action ${actionDigest.hash}/${actionDigest.sizeBytes} in instance ${JSON.stringify(name.instanceName)}${environment === '' ? '' : ` (environment ${environment})`}`)
        }
        // Already an encoded ActionResult: the service definition passes Buffers through.
        return result as unknown as ActionResult
      })
    },

    UpdateActionResult (call, callback) {
      answerUnary(call, callback, async (signal) => {
        checkDigestFunction(call.request.digestFunction)
        const actionDigest = digestFromMessage(call.request.actionDigest, 'action_digest')
        const name = nameOf(call.request.instanceName, actionDigest)
        const result = call.request.actionResult
        if (result == null) throw new InvalidRequestError('action_result is missing')
        await names.put(name, reapi.ActionResult.serialize(result as ActionResult))
        return result
      })
    }
  }
}

import type { ActionCacheHandlers } from '../generated/build/bazel/remote/execution/v2/ActionCache.js'
import type { ActionResult } from '../generated/build/bazel/remote/execution/v2/ActionResult.js'
import { actionResultName } from '../domain/names.js'
import { checkDigestFunction, digestFromMessage, validateInstanceName } from '../domain/resource-names.js'
import type { NamedResultResolver } from '../resolve/named-results.js'
import { toRpcError } from './errors.js'
import { InvalidRequestError, NotFoundError } from '../domain/errors.js'
import { reapi } from './protos.js'
import { signalOf } from './call-writes.js'

/** What the ActionCache service needs. */
export interface ActionCacheServiceDeps {
  /** The named-result read path (action results are one kind of named result). */
  names: NamedResultResolver
}

/**
 * ActionCache over named results of kind `action-result`: GetActionResult answers only complete
 * results (every referenced blob reachable; see node/resolve/named-result-rules.ts), otherwise
 * NOT_FOUND; UpdateActionResult validates every digest the result names before storing it.
 */
export function createActionCacheService ({ names }: ActionCacheServiceDeps): ActionCacheHandlers {
  return {
    GetActionResult (call, callback) {
      void (async () => {
        const instanceName = validateInstanceName(call.request.instanceName)
        checkDigestFunction(call.request.digestFunction)
        const actionDigest = digestFromMessage(call.request.actionDigest, 'action_digest')
        const result = await names.get(actionResultName(instanceName, actionDigest), signalOf(call))
        if (result === undefined) {
          throw new NotFoundError(`no complete action result for action ${actionDigest.hash}/${actionDigest.sizeBytes} in instance ${JSON.stringify(instanceName)}`)
        }
        // Already an encoded ActionResult: the service definition passes Buffers through.
        return result as unknown as ActionResult
      })().then((r) => { callback(null, r) }, (e) => { callback(toRpcError(e)) })
    },

    UpdateActionResult (call, callback) {
      void (async () => {
        const instanceName = validateInstanceName(call.request.instanceName)
        checkDigestFunction(call.request.digestFunction)
        const actionDigest = digestFromMessage(call.request.actionDigest, 'action_digest')
        const result = call.request.actionResult
        if (result == null) throw new InvalidRequestError('action_result is missing')
        await names.put(actionResultName(instanceName, actionDigest), reapi.ActionResult.serialize(result as ActionResult))
        return result
      })().then((r) => { callback(null, r) }, (e) => { callback(toRpcError(e)) })
    }
  }
}

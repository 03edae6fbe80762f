import type { ReferenceStorageHandlers } from '../generated/buildstream/v2/ReferenceStorage.js'
import { NotFoundError } from '../domain/errors.js'
import { digestFromMessage, validateInstanceName } from '../domain/resource-names.js'
import { RefUpdatesRefusedError, validateRefName } from '../domain/refs.js'
import type { AssetResolver } from '../resolve/assets.js'
import { toRpcError } from './errors.js'
import { answerUnary } from './call-writes.js'

/** What the BuildStream ReferenceStorage service needs. */
export interface ReferenceStorageServiceDeps {
  /** Refs are named results of kind `ref`, shared with the Remote Asset API's BuildStream URNs. */
  assets: AssetResolver
  /** Whether clients of this endpoint may update refs (Status `allow_updates`). @default true */
  allowUpdates?: boolean
}

/**
 * BuildStream 1.x `buildstream.v2.ReferenceStorage`: a ref names an artifact's root Directory.
 * GetReference answers only complete artifacts (the whole tree reachable), else NOT_FOUND;
 * UpdateReference accepts only trees that are complete in the CAS, and only on an endpoint that
 * allows updates (else PERMISSION_DENIED); Status says which this endpoint is (`allowRefUpdates`
 * of the node's own socket and listeners, or of an entry of `endpoints`).
 */
export function createReferenceStorageService ({ assets, allowUpdates = true }: ReferenceStorageServiceDeps): ReferenceStorageHandlers {
  return {
    GetReference (call, callback) {
      answerUnary(call, callback, async (signal) => {
        const instanceName = validateInstanceName(call.request.instanceName)
        const key = validateRefName(call.request.key, 'key')
        const root = await assets.getRef(instanceName, key, signal)
        if (root === undefined) throw new NotFoundError(`no complete artifact for ref ${JSON.stringify(key)} in instance ${JSON.stringify(instanceName)}`)
        return { digest: root }
      })
    },

    UpdateReference (call, callback) {
      answerUnary(call, callback, async (signal) => {
        const instanceName = validateInstanceName(call.request.instanceName)
        if (!allowUpdates) throw new RefUpdatesRefusedError('this endpoint does not take ref updates (allowRefUpdates: false); push through another one')
        const root = digestFromMessage(call.request.digest, 'digest')
        await assets.putRef(instanceName, call.request.keys, root, signal)
        return {}
      })
    },

    Status (call, callback) {
      try {
        validateInstanceName(call.request.instanceName)
        callback(null, { allowUpdates })
      } catch (error) {
        callback(toRpcError(error))
      }
    }
  }
}

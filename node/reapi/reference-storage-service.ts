import type { ReferenceStorageHandlers } from '../generated/buildstream/v2/ReferenceStorage.js'
import { NotFoundError } from '../domain/errors.js'
import { digestFromMessage, validateInstanceName } from '../domain/resource-names.js'
import { validateRefName } from '../domain/refs.js'
import type { AssetResolver } from '../resolve/assets.js'
import { toRpcError } from './errors.js'
import { signalOf } from './call-writes.js'

/** What the BuildStream ReferenceStorage service needs. */
export interface ReferenceStorageServiceDeps {
  /** Refs are named results of kind `ref`, shared with the Remote Asset API's BuildStream URNs. */
  assets: AssetResolver
}

/**
 * BuildStream 1.x `buildstream.v2.ReferenceStorage`: a ref names an artifact's root Directory.
 * GetReference answers only complete artifacts (the whole tree reachable), else NOT_FOUND;
 * UpdateReference accepts only trees that are complete in the CAS; Status says updates are
 * allowed (a peercas node takes writes on every endpoint it serves).
 */
export function createReferenceStorageService ({ assets }: ReferenceStorageServiceDeps): ReferenceStorageHandlers {
  return {
    GetReference (call, callback) {
      void (async () => {
        const instanceName = validateInstanceName(call.request.instanceName)
        const key = validateRefName(call.request.key, 'key')
        const root = await assets.getRef(instanceName, key, signalOf(call))
        if (root === undefined) throw new NotFoundError(`no complete artifact for ref ${JSON.stringify(key)} in instance ${JSON.stringify(instanceName)}`)
        return { digest: root }
      })().then((r) => { callback(null, r) }, (e) => { callback(toRpcError(e)) })
    },

    UpdateReference (call, callback) {
      void (async () => {
        const instanceName = validateInstanceName(call.request.instanceName)
        const root = digestFromMessage(call.request.digest, 'digest')
        await assets.putRef(instanceName, call.request.keys, root, signalOf(call))
        return {}
      })().then((r) => { callback(null, r) }, (e) => { callback(toRpcError(e)) })
    },

    Status (call, callback) {
      try {
        validateInstanceName(call.request.instanceName)
        callback(null, { allowUpdates: true })
      } catch (error) {
        callback(toRpcError(error))
      }
    }
  }
}

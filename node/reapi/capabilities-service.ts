import type { CapabilitiesHandlers } from '../generated/build/bazel/remote/execution/v2/Capabilities.js'
import type { ServerCapabilities } from '../generated/build/bazel/remote/execution/v2/ServerCapabilities.js'
import { HIGH_API_VERSION, LOW_API_VERSION } from './constants.js'
import { MAX_BATCH_TOTAL_SIZE_BYTES } from '../domain/constants.js'
import { toRpcError } from './errors.js'
import { validateInstanceName } from '../domain/resource-names.js'

/** What this node offers: a SHA-256 cache with an updatable action cache and no execution. */
export function serverCapabilities (): ServerCapabilities {
  return {
    cacheCapabilities: {
      digestFunctions: ['SHA256'],
      actionCacheUpdateCapabilities: { updateEnabled: true },
      maxBatchTotalSizeBytes: MAX_BATCH_TOTAL_SIZE_BYTES,
      symlinkAbsolutePathStrategy: 'ALLOWED',
      supportedCompressors: ['ZSTD'],
      supportedBatchUpdateCompressors: []
    },
    executionCapabilities: {
      digestFunction: 'SHA256',
      digestFunctions: ['SHA256'],
      execEnabled: false
    },
    lowApiVersion: LOW_API_VERSION,
    highApiVersion: HIGH_API_VERSION
  }
}

/** Capabilities.GetCapabilities. */
export function createCapabilitiesService (): CapabilitiesHandlers {
  return {
    GetCapabilities (call, callback) {
      try {
        validateInstanceName(call.request.instanceName)
        callback(null, serverCapabilities())
      } catch (error) {
        callback(toRpcError(error))
      }
    }
  }
}

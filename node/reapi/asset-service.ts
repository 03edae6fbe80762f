import type { FetchHandlers } from '../generated/build/bazel/remote/asset/v1/Fetch.js'
import type { PushHandlers } from '../generated/build/bazel/remote/asset/v1/Push.js'
import type { Timestamp } from '../generated/google/protobuf/Timestamp.js'
import { BUILDSTREAM_REF_URN_PREFIX, validateAssetRequest } from '../domain/assets.js'
import { RefUpdatesRefusedError } from '../domain/refs.js'
import { checkDigestFunction, digestFromMessage, validateInstanceName } from '../domain/resource-names.js'
import type { AssetResolver } from '../resolve/assets.js'
import { toRpcError } from './errors.js'
import { answerUnary } from './call-writes.js'

/** What the Remote Asset services need. */
export interface AssetServiceDeps {
  /** The asset read and write paths (named results, then the origin). */
  assets: AssetResolver
  /** Whether PushDirectory may update BuildStream refs (their URNs) through this endpoint. @default true */
  allowRefUpdates?: boolean
}

/**
 * Remote Asset API v1, Fetch and Push. Failures are gRPC statuses, not the response's inline
 * `status`: Bazel 4.2.3 does not read the inline one (it would take an empty digest for an
 * answer), and BuildStream 1.6.8 expects NOT_FOUND as an RPC error. An empty `uris` is
 * INVALID_ARGUMENT, which is also how BuildStream probes for the service.
 */
export function createAssetServices ({ assets, allowRefUpdates = true }: AssetServiceDeps): { fetch: FetchHandlers, push: PushHandlers } {
  return {
    fetch: {
      FetchBlob (call, callback) {
        answerUnary(call, callback, async (signal) => {
          const { request } = call
          const instanceName = validateInstanceName(request.instanceName)
          checkDigestFunction(request.digestFunction)
          const asset = validateAssetRequest(request.uris, request.qualifiers)
          const { uri, mapping } = await assets.fetchBlob(instanceName, asset, {
            signal: signal,
            timeoutMs: durationMs(request.timeout),
            oldestAcceptedMs: timestampMs(request.oldestContentAccepted)
          })
          return {
            status: { code: 0, message: '' },
            uri,
            qualifiers: [...mapping.qualifiers],
            expiresAt: mapping.expireAtMs > 0 ? timestampOf(mapping.expireAtMs) : null,
            blobDigest: 'blob' in mapping.target ? mapping.target.blob : null,
            digestFunction: 'SHA256' as const
          }
        })
      },

      FetchDirectory (call, callback) {
        answerUnary(call, callback, async (signal) => {
          const { request } = call
          const instanceName = validateInstanceName(request.instanceName)
          checkDigestFunction(request.digestFunction)
          const asset = validateAssetRequest(request.uris, request.qualifiers)
          const { uri, root, mapping } = await assets.fetchDirectory(instanceName, asset, {
            signal: signal,
            oldestAcceptedMs: timestampMs(request.oldestContentAccepted)
          })
          return {
            status: { code: 0, message: '' },
            uri,
            qualifiers: [...asset.qualifiers],
            expiresAt: mapping !== undefined && mapping.expireAtMs > 0 ? timestampOf(mapping.expireAtMs) : null,
            rootDirectoryDigest: root,
            digestFunction: 'SHA256' as const
          }
        })
      }
    },

    push: {
      PushBlob (call, callback) {
        answerUnary(call, callback, async (signal) => {
          const { request } = call
          const instanceName = validateInstanceName(request.instanceName)
          checkDigestFunction(request.digestFunction)
          const asset = validateAssetRequest(request.uris, request.qualifiers)
          const blob = digestFromMessage(request.blobDigest, 'blob_digest')
          await assets.pushBlob(instanceName, asset, blob, { signal: signal, expireAtMs: timestampMs(request.expireAt) })
          return {}
        })
      },

      PushDirectory (call, callback) {
        answerUnary(call, callback, async (signal) => {
          const { request } = call
          const instanceName = validateInstanceName(request.instanceName)
          checkDigestFunction(request.digestFunction)
          // BuildStream 1.6.8 probes for push with an empty request: PERMISSION_DENIED tells it
          // "no push here", INVALID_ARGUMENT "push supported".
          if (!allowRefUpdates && (request.uris.length === 0 || request.uris.some((uri) => uri.startsWith(BUILDSTREAM_REF_URN_PREFIX)))) {
            throw new RefUpdatesRefusedError('this endpoint does not take ref updates (allowRefUpdates: false); push through another one')
          }
          const asset = validateAssetRequest(request.uris, request.qualifiers)
          const root = digestFromMessage(request.rootDirectoryDigest, 'root_directory_digest')
          await assets.pushDirectory(instanceName, asset, root, { signal: signal, expireAtMs: timestampMs(request.expireAt) })
          return {}
        })
      }
    }
  }
}

type Seconds = { seconds?: number | string | { toString(): string } | null, nanos?: number | null } | null | undefined

/** A Duration in ms, or `undefined` when unset or not positive. */
function durationMs (duration: Seconds): number | undefined {
  if (duration == null) return undefined
  const ms = Number(duration.seconds ?? 0) * 1000 + Math.floor((duration.nanos ?? 0) / 1e6)
  return ms > 0 ? ms : undefined
}

/** A Timestamp in epoch ms, or `undefined` when unset. */
function timestampMs (timestamp: Seconds): number | undefined {
  if (timestamp == null) return undefined
  const ms = Number(timestamp.seconds ?? 0) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6)
  return ms > 0 ? ms : undefined
}

function timestampOf (ms: number): Timestamp {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 }
}

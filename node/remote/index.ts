import type { Logger } from '../log/logger.js'
import type { PeercasConfig } from '../config/schema.js'
import type { Digest } from '../store/digest.js'
import type { LocalStore } from '../store/local-store.js'
import type { BlobFetcher } from '../resolve/tiered-resolver.js'
import type { ActionResultFetcher } from '../reapi/action-cache-service.js'
import type { RemoteStatus } from '../generated/peercas/admin/v1/RemoteStatus.js'
import type { FlushProgress } from '../generated/peercas/admin/v1/FlushProgress.js'

/** What the central-CAS layer needs from the node. */
export interface RemoteComponents {
  config: PeercasConfig
  store: LocalStore
  logger: Logger
}

/** The link to the central REAPI CAS: read-through tier and write-behind queue. */
export interface RemoteService {
  /** The central tier of the read path (with `findDurable`). */
  readonly blobFetcher: BlobFetcher
  /** GetActionResult fallback to the central action cache. */
  readonly actionResultFetcher: ActionResultFetcher
  /** Queues blobs a local client wrote for upload. */
  enqueueBlobs(digests: Digest[]): void
  /** Queues an action result a local client wrote for upload (after its blobs). */
  enqueueActionResult(instanceName: string, actionDigest: Digest): void
  status(): RemoteStatus
  /** Yields progress until the queue is empty (or the signal fires). */
  flush(signal: AbortSignal): AsyncIterable<FlushProgress>
  stop(): Promise<void>
}

/** No central CAS is configured. */
export class RemoteNotConfiguredError extends Error {
  override name = 'RemoteNotConfiguredError'
}

/** Connects to the central CAS, or returns `undefined` when `config.remote.endpoint` is empty. */
export async function startRemote (components: RemoteComponents): Promise<RemoteService | undefined> {
  if (components.config.remote.endpoint === '') return undefined
  components.logger.warn('the central CAS link is not implemented yet; running as a local cache only')
  return undefined
}

import type { AdminHandlers } from '../generated/peercas/admin/v1/Admin.js'
import type { GetStatusResponse } from '../generated/peercas/admin/v1/GetStatusResponse.js'
import type { RunGcResponse } from '../generated/peercas/admin/v1/RunGcResponse.js'
import type { FlushProgress } from '../generated/peercas/admin/v1/FlushProgress.js'
import type { SyncProgress } from '../generated/peercas/admin/v1/SyncProgress.js'
import { toRpcError } from './errors.js'
import { answerUnary, watchCancellation, writeWithBackpressure, type StreamingCall } from './call-writes.js'

/** A `peercas sync` as the CLI asks for it. */
export interface SyncRequest {
  /** Multiaddr (with /p2p/ID) or bare peer ID. */
  peer: string
  /** Only entries newer than this many ms (0 = all). */
  sinceMs: number
  /** Named results only, no other blobs. */
  acOnly: boolean
  /** Ends the run (the CLI went away). */
  signal: AbortSignal
}

/** What the admin service reports on and acts upon. */
export interface AdminServiceDeps {
  status(): Promise<GetStatusResponse>
  runGc(targetBytes: number | undefined): Promise<RunGcResponse>
  flush(signal: AbortSignal): AsyncIterable<FlushProgress>
  sync(request: SyncRequest): AsyncIterable<SyncProgress>
  /** Opens a socket for one build environment; resolves with its path. */
  openSocket(request: { environment: string, path: string, instance: string }): Promise<string>
  /** Closes a socket opened by {@link openSocket}. */
  closeSocket(path: string): Promise<void>
}

/** peercas.admin.v1.Admin: status, gc, flush and sync for the CLI. */
export function createAdminService (deps: AdminServiceDeps): AdminHandlers {
  const streamOut = async <T>(call: StreamingCall<T> & { end(): void }, source: (signal: AbortSignal) => AsyncIterable<T>, timeoutMs: number): Promise<void> => {
    const cancellation = watchCancellation(call)
    const signal = timeoutMs > 0 ? AbortSignal.any([cancellation.signal, AbortSignal.timeout(timeoutMs)]) : cancellation.signal
    try {
      for await (const progress of source(signal)) {
        await writeWithBackpressure(call, progress)
      }
      call.end()
    } catch (error) {
      call.emit('error', toRpcError(error))
    } finally {
      cancellation.release()
    }
  }
  return {
    GetStatus (call, callback) {
      answerUnary(call, callback, async () => await deps.status())
    },
    RunGc (call, callback) {
      const target = Number(call.request.targetBytes)
      answerUnary(call, callback, async () => await deps.runGc(target > 0 ? target : undefined))
    },
    Flush (call) {
      void streamOut(call, (signal) => deps.flush(signal), call.request.timeoutSeconds * 1000)
    },
    Sync (call) {
      void streamOut(call, (signal) => deps.sync({ peer: call.request.peer, sinceMs: Number(call.request.sinceSeconds) * 1000, acOnly: call.request.acOnly, signal }), 0)
    },
    OpenSocket (call, callback) {
      answerUnary(call, callback, async () => ({ path: await deps.openSocket(call.request) }))
    },
    CloseSocket (call, callback) {
      answerUnary(call, callback, async () => { await deps.closeSocket(call.request.path); return {} })
    }
  }
}

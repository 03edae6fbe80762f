import type { AdminHandlers } from '../generated/peercas/admin/v1/Admin.js'
import type { GetStatusResponse } from '../generated/peercas/admin/v1/GetStatusResponse.js'
import type { RunGcResponse } from '../generated/peercas/admin/v1/RunGcResponse.js'
import { toRpcError } from './errors.js'

/** What the admin service reports on and acts upon. */
export interface AdminServiceDeps {
  status(): Promise<GetStatusResponse>
  runGc(targetBytes: number | undefined): Promise<RunGcResponse>
}

/** peercas.admin.v1.Admin: status for `peercas status`, eviction for `peercas gc`. */
export function createAdminService (deps: AdminServiceDeps): AdminHandlers {
  return {
    GetStatus (_call, callback) {
      deps.status().then((r) => { callback(null, r) }, (e) => { callback(toRpcError(e)) })
    },
    RunGc (call, callback) {
      const target = Number(call.request.targetBytes)
      deps.runGc(target > 0 ? target : undefined).then((r) => { callback(null, r) }, (e) => { callback(toRpcError(e)) })
    }
  }
}

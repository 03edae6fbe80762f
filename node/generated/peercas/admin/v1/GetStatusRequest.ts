// Original file: protos/peercas/admin/v1/admin.proto


export interface GetStatusRequest {
}

export interface GetStatusRequest__Output {
}

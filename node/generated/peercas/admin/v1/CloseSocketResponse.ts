// Original file: protos/peercas/admin/v1/admin.proto


export interface CloseSocketResponse {
}

export interface CloseSocketResponse__Output {
}

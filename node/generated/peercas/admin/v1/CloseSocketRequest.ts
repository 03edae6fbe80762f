// Original file: protos/peercas/admin/v1/admin.proto


export interface CloseSocketRequest {
  'path'?: (string);
}

export interface CloseSocketRequest__Output {
  'path': (string);
}

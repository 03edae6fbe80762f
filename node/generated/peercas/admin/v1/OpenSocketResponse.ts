// Original file: protos/peercas/admin/v1/admin.proto


export interface OpenSocketResponse {
  'path'?: (string);
}

export interface OpenSocketResponse__Output {
  'path': (string);
}

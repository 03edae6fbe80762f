// Original file: protos/peercas/admin/v1/admin.proto


export interface FlushRequest {
  'timeoutSeconds'?: (number);
}

export interface FlushRequest__Output {
  'timeoutSeconds': (number);
}

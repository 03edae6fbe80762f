// Original file: protos/peercas/admin/v1/admin.proto


export interface OpenSocketRequest {
  'environment'?: (string);
  'path'?: (string);
  'instance'?: (string);
}

export interface OpenSocketRequest__Output {
  'environment': (string);
  'path': (string);
  'instance': (string);
}

// Original file: protos/peercas/p2p/v1/p2p.proto


export interface NameEntry {
  'instanceName'?: (string);
  'key'?: (string);
}

export interface NameEntry__Output {
  'instanceName': (string);
  'key': (string);
}

// Original file: protos/buildstream/v2/buildstream.proto


export interface StatusResponse {
  'allowUpdates'?: (boolean);
}

export interface StatusResponse__Output {
  'allowUpdates': (boolean);
}

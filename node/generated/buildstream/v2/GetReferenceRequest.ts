// Original file: protos/buildstream/v2/buildstream.proto


export interface GetReferenceRequest {
  'instanceName'?: (string);
  'key'?: (string);
}

export interface GetReferenceRequest__Output {
  'instanceName': (string);
  'key': (string);
}

// Original file: protos/buildstream/v2/buildstream.proto


export interface StatusRequest {
  'instanceName'?: (string);
}

export interface StatusRequest__Output {
  'instanceName': (string);
}

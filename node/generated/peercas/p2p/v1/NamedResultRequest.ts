// Original file: protos/peercas/p2p/v1/p2p.proto

import type { Long } from '@grpc/proto-loader';

export interface NamedResultRequest {
  'kind'?: (string);
  'instanceName'?: (string);
  'key'?: (string);
  'maxInlineBytes'?: (number | string | Long);
}

export interface NamedResultRequest__Output {
  'kind': (string);
  'instanceName': (string);
  'key': (string);
  'maxInlineBytes': (number);
}

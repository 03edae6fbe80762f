// Original file: protos/peercas/p2p/v1/p2p.proto


export interface AvailabilityControl {
  'wanted'?: (boolean);
}

export interface AvailabilityControl__Output {
  'wanted': (boolean);
}

// Original file: protos/buildstream/v2/buildstream.proto


export interface UpdateReferenceResponse {
}

export interface UpdateReferenceResponse__Output {
}

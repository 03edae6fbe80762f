import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { existsSync } from 'node:fs'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import type { ProtoGrpcType as RemoteExecutionProto } from '../generated/remote_execution.js'
import type { ProtoGrpcType as ByteStreamProto } from '../generated/bytestream.js'
import type { ProtoGrpcType as AdminProto } from '../generated/admin.js'

/** Locates `protos/` whether running from source (node/) or compiled (dist/node/). */
function findProtosDir (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'protos')
    if (existsSync(join(candidate, 'build/bazel/remote/execution/v2/remote_execution.proto'))) return candidate
    dir = dirname(dir)
  }
  throw new Error('cannot find the protos/ directory next to the peercas sources')
}

/** The options every peercas process loads protos with (they shape the JS objects). */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true
}

const packageDefinition = protoLoader.loadSync(
  [
    'build/bazel/remote/execution/v2/remote_execution.proto',
    'google/bytestream/bytestream.proto',
    'peercas/admin/v1/admin.proto'
  ],
  { ...PROTO_LOADER_OPTIONS, includeDirs: [findProtosDir()] }
)

type LoadedProtos = RemoteExecutionProto & ByteStreamProto & AdminProto

/** Every loaded service and message, typed by the generated definitions in node/generated. */
export const protos = grpc.loadPackageDefinition(packageDefinition) as unknown as LoadedProtos

/** The REAPI v2 package (`build.bazel.remote.execution.v2`). */
export const reapi = protos.build.bazel.remote.execution.v2

/** The `google.bytestream` package. */
export const bytestream = protos.google.bytestream

/** Our own admin package (`peercas.admin.v1`). */
export const admin = protos.peercas.admin.v1

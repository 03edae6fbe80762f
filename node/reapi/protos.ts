import * as grpc from '@grpc/grpc-js'
import { packageDefinition } from '../domain/messages.js'
import type { ProtoGrpcType as RemoteExecutionProto } from '../generated/remote_execution.js'
import type { ProtoGrpcType as ByteStreamProto } from '../generated/bytestream.js'
import type { ProtoGrpcType as AdminProto } from '../generated/admin.js'
import type { ProtoGrpcType as RemoteAssetProto } from '../generated/remote_asset.js'
import type { ProtoGrpcType as BuildStreamProto } from '../generated/buildstream.js'

type LoadedProtos = RemoteExecutionProto & ByteStreamProto & AdminProto & RemoteAssetProto & BuildStreamProto

/** Every loaded service and message, typed by the generated definitions in node/generated. */
export const protos = grpc.loadPackageDefinition(packageDefinition) as unknown as LoadedProtos

/** The REAPI v2 package (`build.bazel.remote.execution.v2`). */
export const reapi = protos.build.bazel.remote.execution.v2

/** The `google.bytestream` package. */
export const bytestream = protos.google.bytestream

/** Our own admin package (`peercas.admin.v1`). */
export const admin = protos.peercas.admin.v1

/** The Remote Asset API package (`build.bazel.remote.asset.v1`). */
export const remoteAsset = protos.build.bazel.remote.asset.v1

/** BuildStream 1.x artifact references (`buildstream.v2`). */
export const buildstream = protos.buildstream.v2

import * as protoLoader from '@grpc/proto-loader'
import { PROTOS_DIR } from '../protos-dir.js'
import type { ProtoGrpcType as RemoteExecutionProto } from '../generated/remote_execution.js'
import type { ProtoGrpcType as NamesProto } from '../generated/names.js'

/** The options every peercas process loads protos with (they shape the JS objects). */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true
}

/**
 * The REAPI v2, ByteStream, admin, Remote Asset, BuildStream and named-result protos, loaded once. Message codecs come from here; the gRPC
 * edge (node/reapi/protos.ts) builds its services from the same definition.
 */
export const packageDefinition: protoLoader.PackageDefinition = protoLoader.loadSync(
  [
    'build/bazel/remote/execution/v2/remote_execution.proto',
    'google/bytestream/bytestream.proto',
    'peercas/admin/v1/admin.proto',
    'build/bazel/remote/asset/v1/remote_asset.proto',
    'buildstream/v2/buildstream.proto',
    'peercas/names/v1/names.proto'
  ],
  { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTOS_DIR] }
)

type ReapiMessages = RemoteExecutionProto['build']['bazel']['remote']['execution']['v2']

/** A message codec (`serialize`/`deserialize`) of the REAPI v2 package, by its short name. */
function reapiMessage<K extends keyof ReapiMessages> (name: K): ReapiMessages[K] {
  const definition = packageDefinition[`build.bazel.remote.execution.v2.${name}`]
  if (definition === undefined || !('serialize' in definition)) throw new Error(`REAPI message ${name} is not in the loaded protos`)
  return definition as unknown as ReapiMessages[K]
}

/** Codecs of the REAPI v2 messages the domain reads and writes (no gRPC involved). */
export const reapiMessages = {
  ActionResult: reapiMessage('ActionResult'),
  Tree: reapiMessage('Tree'),
  Directory: reapiMessage('Directory')
}

type NameValueMessages = NamesProto['peercas']['names']['v1']

/** A message codec of the named-result values (`peercas.names.v1`), by its short name. */
function nameValueMessage<K extends keyof NameValueMessages> (name: K): NameValueMessages[K] {
  const definition = packageDefinition[`peercas.names.v1.${name}`]
  if (definition === undefined || !('serialize' in definition)) throw new Error(`message peercas.names.v1.${name} is not in the loaded protos`)
  return definition as unknown as NameValueMessages[K]
}

/** Codecs of the values of named results that are not REAPI messages (assets, BuildStream refs). */
export const nameValueMessages = {
  AssetMapping: nameValueMessage('AssetMapping'),
  RefTarget: nameValueMessage('RefTarget')
}

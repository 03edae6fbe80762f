import * as protoLoader from '@grpc/proto-loader'
import { PROTOS_DIR } from '../protos-dir.js'
import { PROTO_LOADER_OPTIONS } from '../domain/messages.js'
import type { ProtoGrpcType as P2pProto } from '../generated/p2p.js'
import type { ActionEntry__Output } from '../generated/peercas/p2p/v1/ActionEntry.js'
import type { ActionResultRequest__Output } from '../generated/peercas/p2p/v1/ActionResultRequest.js'
import type { ActionResultResponse__Output } from '../generated/peercas/p2p/v1/ActionResultResponse.js'
import type { NamedResultRequest__Output } from '../generated/peercas/p2p/v1/NamedResultRequest.js'
import type { NamedResultResponse__Output } from '../generated/peercas/p2p/v1/NamedResultResponse.js'
import type { NameEntry__Output } from '../generated/peercas/p2p/v1/NameEntry.js'
import type { AvailabilityControl__Output } from '../generated/peercas/p2p/v1/AvailabilityControl.js'
import type { AvailabilityMessage__Output } from '../generated/peercas/p2p/v1/AvailabilityMessage.js'
import type { BlobHeader__Output } from '../generated/peercas/p2p/v1/BlobHeader.js'
import type { BlobRef__Output } from '../generated/peercas/p2p/v1/BlobRef.js'
import type { Delta__Output } from '../generated/peercas/p2p/v1/Delta.js'
import type { FetchRequest__Output } from '../generated/peercas/p2p/v1/FetchRequest.js'
import type { InlineBlob__Output } from '../generated/peercas/p2p/v1/InlineBlob.js'
import type { ListPage__Output } from '../generated/peercas/p2p/v1/ListPage.js'
import type { ListRequest__Output } from '../generated/peercas/p2p/v1/ListRequest.js'
import type { SummaryPart__Output } from '../generated/peercas/p2p/v1/SummaryPart.js'
import type { SummaryStart__Output } from '../generated/peercas/p2p/v1/SummaryStart.js'
import type { Want__Output } from '../generated/peercas/p2p/v1/Want.js'
import type { PieceMap__Output } from '../generated/peercas/p2p/v1/PieceMap.js'
import type { PieceMapRequest__Output } from '../generated/peercas/p2p/v1/PieceMapRequest.js'
import type { PieceUpdate__Output } from '../generated/peercas/p2p/v1/PieceUpdate.js'
import { MalformedFrameError } from './errors.js'

// The message types are generated from protos/peercas/p2p/v1/p2p.proto (`npm run gen-types`).
// Each `…Message` below is a complete message, as `decode` returns it (every field present);
// `encode` takes the generated input type, in which every field is optional.

/**
 * A generated message type (`…__Output`) with its bytes fields typed as `Uint8Array`: decoded
 * bytes are Buffers (which are Uint8Arrays), and a message we build may hold any Uint8Array.
 */
export type WireMessage<T> = T extends Buffer ? Uint8Array : T extends Array<infer E> ? Array<WireMessage<E>> : T extends object ? { [K in keyof T]: WireMessage<T[K]> } : T

/** A blob on the wire: binary CID plus size. */
export type BlobRefMessage = WireMessage<BlobRef__Output>
/** Starts a summary (see protos/peercas/p2p/v1/p2p.proto). */
export type SummaryStartMessage = WireMessage<SummaryStart__Output>
/** A slice of a summary's bit array. */
export type SummaryPartMessage = WireMessage<SummaryPart__Output>
/** Blobs added since the last frame. */
export type DeltaMessage = WireMessage<Delta__Output>
/** One frame of the availability protocol; exactly one of its fields is set, named by `kind`. */
export type AvailabilityMessage = WireMessage<AvailabilityMessage__Output>
/** Receiver → sender on /peercas/avail/1.1.0: stop (false) or resume (true) sending. */
export type AvailabilityControlMessage = WireMessage<AvailabilityControl__Output>
/** One blob or range wanted. */
export type WantMessage = WireMessage<Want__Output>
/** The blobs a fetch client asks for. */
export type FetchRequestMessage = WireMessage<FetchRequest__Output>
/** Status of one want in a fetch response. */
export type BlobStatus = BlobHeader__Output['status']
/** Sent for each want, in request order; with status OK, `length` raw bytes follow. */
export type BlobHeaderMessage = WireMessage<BlobHeader__Output>
/** An action-result lookup. */
export type ActionResultRequestMessage = WireMessage<ActionResultRequest__Output>
/** A whole blob carried in an action-result answer. */
export type InlineBlobMessage = WireMessage<InlineBlob__Output>
/** The answer to an action-result lookup. */
export type ActionResultResponseMessage = WireMessage<ActionResultResponse__Output>
/** A named-result lookup (/peercas/ac/2.0.0). */
export type NamedResultRequestMessage = WireMessage<NamedResultRequest__Output>
/** The answer to a named-result lookup. */
export type NamedResultResponseMessage = WireMessage<NamedResultResponse__Output>
/** One named-result key in a list page (/peercas/list/1.1.0). */
export type NameEntryMessage = WireMessage<NameEntry__Output>
/** What a list stream lists. */
export type ListRequestMessage = WireMessage<ListRequest__Output>
/** One action-cache key in a list page. */
export type ActionEntryMessage = WireMessage<ActionEntry__Output>
/** A page of a listing; the last one has `done` set. */
export type ListPageMessage = WireMessage<ListPage__Output>

/** Asks for a blob's piece map (/peercas/pieces/1.0.0). */
export type PieceMapRequestMessage = WireMessage<PieceMapRequest__Output>
/** A blob's piece map: piece size, hashes, pieces held, swarm. */
export type PieceMapMessage = WireMessage<PieceMap__Output>
/** Pieces newly verified by a node that is fetching the blob. */
export type PieceUpdateMessage = WireMessage<PieceUpdate__Output>

/** Encodes and decodes one message type; `decode` throws {@link MalformedFrameError}. */
export interface MessageCodec<In, Out = In> {
  encode(message: In): Uint8Array
  decode(bytes: Uint8Array): Out
}

const definition = protoLoader.loadSync('peercas/p2p/v1/p2p.proto', { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTOS_DIR] })
type P2pMessages = P2pProto['peercas']['p2p']['v1']

/** The codec of one message of peercas.p2p.v1 (protobuf only; no gRPC involved). */
function p2pMessage<K extends keyof P2pMessages> (name: K): P2pMessages[K] {
  const type = definition[`peercas.p2p.v1.${name}`]
  if (type === undefined || !('serialize' in type)) throw new Error(`p2p message ${name} is not in p2p.proto`)
  return type as unknown as P2pMessages[K]
}

function codec<In, Out> (name: string, type: protoLoader.MessageTypeDefinition<In, Out>): MessageCodec<In, WireMessage<Out>> {
  return {
    encode: (message) => type.serialize(message),
    decode: (bytes) => {
      try {
        return type.deserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as WireMessage<Out>
      } catch (error) {
        throw new MalformedFrameError(`malformed ${name} frame: ${(error as Error).message}`, { cause: error })
      }
    }
  }
}

/** Codecs of every p2p message. */
export const messages = {
  availability: codec('AvailabilityMessage', p2pMessage('AvailabilityMessage')),
  availabilityControl: codec('AvailabilityControl', p2pMessage('AvailabilityControl')),
  fetchRequest: codec('FetchRequest', p2pMessage('FetchRequest')),
  blobHeader: codec('BlobHeader', p2pMessage('BlobHeader')),
  actionResultRequest: codec('ActionResultRequest', p2pMessage('ActionResultRequest')),
  actionResultResponse: codec('ActionResultResponse', p2pMessage('ActionResultResponse')),
  namedResultRequest: codec('NamedResultRequest', p2pMessage('NamedResultRequest')),
  namedResultResponse: codec('NamedResultResponse', p2pMessage('NamedResultResponse')),
  listRequest: codec('ListRequest', p2pMessage('ListRequest')),
  listPage: codec('ListPage', p2pMessage('ListPage')),
  pieceMapRequest: codec('PieceMapRequest', p2pMessage('PieceMapRequest')),
  pieceMap: codec('PieceMap', p2pMessage('PieceMap')),
  pieceUpdate: codec('PieceUpdate', p2pMessage('PieceUpdate'))
}

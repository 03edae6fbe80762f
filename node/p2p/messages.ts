import * as protoLoader from '@grpc/proto-loader'
import { PROTOS_DIR } from '../protos-dir.js'
import { PROTO_LOADER_OPTIONS } from '../domain/messages.js'
import { MalformedFrameError } from './errors.js'

/** A blob on the wire: binary CID plus size. */
export interface BlobRefMessage { cid: Uint8Array, size: number }
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface SummaryStartMessage { version: number, generation: number, bits: number, hashes: number, blobCount: number }
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface SummaryPartMessage { generation: number, offset: number, data: Uint8Array }
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface DeltaMessage { generation: number, added: BlobRefMessage[] }
/** One frame of the availability protocol; exactly one field is set. */
export interface AvailabilityMessage {
  summaryStart?: SummaryStartMessage | null
  summaryPart?: SummaryPartMessage | null
  delta?: DeltaMessage | null
  kind?: 'summaryStart' | 'summaryPart' | 'delta'
}
/** Receiver → sender on /peercas/avail/1.1.0: stop (false) or resume (true) sending. */
export interface AvailabilityControlMessage { wanted: boolean }
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface WantMessage { blob: BlobRefMessage | null, offset: number, length: number }
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface FetchRequestMessage { wants: WantMessage[] }
/** Status of one want in a fetch response. */
export type BlobStatus = 'OK' | 'NOT_FOUND' | 'BUSY' | 'INVALID'
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface BlobHeaderMessage { status: BlobStatus, offset: number, length: number, message: string }
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface ActionResultRequestMessage { instanceName: string, action: BlobRefMessage | null, maxInlineBytes?: number }
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface InlineBlobMessage { blob: BlobRefMessage | null, data: Uint8Array }
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface ActionResultResponseMessage { found: boolean, actionResult: Uint8Array, inlineBlobs?: InlineBlobMessage[] }
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface ListRequestMessage { kind: 'BLOBS' | 'ACTION_RESULTS', sinceMs?: number }
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface ActionEntryMessage { instanceName: string, action: BlobRefMessage | null }
/** See protos/peercas/p2p/v1/p2p.proto. */
export interface ListPageMessage { blobs: BlobRefMessage[], actions: ActionEntryMessage[], done: boolean }

/** Encodes and decodes one message type; `decode` throws {@link MalformedFrameError}. */
export interface MessageCodec<T> {
  encode(message: T): Uint8Array
  decode(bytes: Uint8Array): T
}

const definition = protoLoader.loadSync('peercas/p2p/v1/p2p.proto', { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTOS_DIR] })

function codec<T> (name: string): MessageCodec<T> {
  const type = definition[`peercas.p2p.v1.${name}`] as unknown as protoLoader.MessageTypeDefinition<T, T>
  return {
    encode: (message) => type.serialize(message),
    decode: (bytes) => {
      try {
        return type.deserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      } catch (error) {
        throw new MalformedFrameError(`malformed ${name} frame: ${(error as Error).message}`, { cause: error })
      }
    }
  }
}

/** Codecs of every p2p message. */
export const messages = {
  availability: codec<AvailabilityMessage>('AvailabilityMessage'),
  availabilityControl: codec<AvailabilityControlMessage>('AvailabilityControl'),
  fetchRequest: codec<FetchRequestMessage>('FetchRequest'),
  blobHeader: codec<BlobHeaderMessage>('BlobHeader'),
  actionResultRequest: codec<ActionResultRequestMessage>('ActionResultRequest'),
  actionResultResponse: codec<ActionResultResponseMessage>('ActionResultResponse'),
  listRequest: codec<ListRequestMessage>('ListRequest'),
  listPage: codec<ListPageMessage>('ListPage')
}

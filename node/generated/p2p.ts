import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ActionEntry as _peercas_p2p_v1_ActionEntry, ActionEntry__Output as _peercas_p2p_v1_ActionEntry__Output } from './peercas/p2p/v1/ActionEntry.js';
import type { ActionResultRequest as _peercas_p2p_v1_ActionResultRequest, ActionResultRequest__Output as _peercas_p2p_v1_ActionResultRequest__Output } from './peercas/p2p/v1/ActionResultRequest.js';
import type { ActionResultResponse as _peercas_p2p_v1_ActionResultResponse, ActionResultResponse__Output as _peercas_p2p_v1_ActionResultResponse__Output } from './peercas/p2p/v1/ActionResultResponse.js';
import type { AvailabilityControl as _peercas_p2p_v1_AvailabilityControl, AvailabilityControl__Output as _peercas_p2p_v1_AvailabilityControl__Output } from './peercas/p2p/v1/AvailabilityControl.js';
import type { AvailabilityMessage as _peercas_p2p_v1_AvailabilityMessage, AvailabilityMessage__Output as _peercas_p2p_v1_AvailabilityMessage__Output } from './peercas/p2p/v1/AvailabilityMessage.js';
import type { BlobHeader as _peercas_p2p_v1_BlobHeader, BlobHeader__Output as _peercas_p2p_v1_BlobHeader__Output } from './peercas/p2p/v1/BlobHeader.js';
import type { BlobRef as _peercas_p2p_v1_BlobRef, BlobRef__Output as _peercas_p2p_v1_BlobRef__Output } from './peercas/p2p/v1/BlobRef.js';
import type { Delta as _peercas_p2p_v1_Delta, Delta__Output as _peercas_p2p_v1_Delta__Output } from './peercas/p2p/v1/Delta.js';
import type { FetchRequest as _peercas_p2p_v1_FetchRequest, FetchRequest__Output as _peercas_p2p_v1_FetchRequest__Output } from './peercas/p2p/v1/FetchRequest.js';
import type { InlineBlob as _peercas_p2p_v1_InlineBlob, InlineBlob__Output as _peercas_p2p_v1_InlineBlob__Output } from './peercas/p2p/v1/InlineBlob.js';
import type { ListPage as _peercas_p2p_v1_ListPage, ListPage__Output as _peercas_p2p_v1_ListPage__Output } from './peercas/p2p/v1/ListPage.js';
import type { ListRequest as _peercas_p2p_v1_ListRequest, ListRequest__Output as _peercas_p2p_v1_ListRequest__Output } from './peercas/p2p/v1/ListRequest.js';
import type { NameEntry as _peercas_p2p_v1_NameEntry, NameEntry__Output as _peercas_p2p_v1_NameEntry__Output } from './peercas/p2p/v1/NameEntry.js';
import type { NamedResultRequest as _peercas_p2p_v1_NamedResultRequest, NamedResultRequest__Output as _peercas_p2p_v1_NamedResultRequest__Output } from './peercas/p2p/v1/NamedResultRequest.js';
import type { NamedResultResponse as _peercas_p2p_v1_NamedResultResponse, NamedResultResponse__Output as _peercas_p2p_v1_NamedResultResponse__Output } from './peercas/p2p/v1/NamedResultResponse.js';
import type { PieceMap as _peercas_p2p_v1_PieceMap, PieceMap__Output as _peercas_p2p_v1_PieceMap__Output } from './peercas/p2p/v1/PieceMap.js';
import type { PieceMapRequest as _peercas_p2p_v1_PieceMapRequest, PieceMapRequest__Output as _peercas_p2p_v1_PieceMapRequest__Output } from './peercas/p2p/v1/PieceMapRequest.js';
import type { PieceUpdate as _peercas_p2p_v1_PieceUpdate, PieceUpdate__Output as _peercas_p2p_v1_PieceUpdate__Output } from './peercas/p2p/v1/PieceUpdate.js';
import type { SummaryPart as _peercas_p2p_v1_SummaryPart, SummaryPart__Output as _peercas_p2p_v1_SummaryPart__Output } from './peercas/p2p/v1/SummaryPart.js';
import type { SummaryStart as _peercas_p2p_v1_SummaryStart, SummaryStart__Output as _peercas_p2p_v1_SummaryStart__Output } from './peercas/p2p/v1/SummaryStart.js';
import type { Want as _peercas_p2p_v1_Want, Want__Output as _peercas_p2p_v1_Want__Output } from './peercas/p2p/v1/Want.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  peercas: {
    p2p: {
      v1: {
        ActionEntry: MessageTypeDefinition<_peercas_p2p_v1_ActionEntry, _peercas_p2p_v1_ActionEntry__Output>
        ActionResultRequest: MessageTypeDefinition<_peercas_p2p_v1_ActionResultRequest, _peercas_p2p_v1_ActionResultRequest__Output>
        ActionResultResponse: MessageTypeDefinition<_peercas_p2p_v1_ActionResultResponse, _peercas_p2p_v1_ActionResultResponse__Output>
        AvailabilityControl: MessageTypeDefinition<_peercas_p2p_v1_AvailabilityControl, _peercas_p2p_v1_AvailabilityControl__Output>
        AvailabilityMessage: MessageTypeDefinition<_peercas_p2p_v1_AvailabilityMessage, _peercas_p2p_v1_AvailabilityMessage__Output>
        BlobHeader: MessageTypeDefinition<_peercas_p2p_v1_BlobHeader, _peercas_p2p_v1_BlobHeader__Output>
        BlobRef: MessageTypeDefinition<_peercas_p2p_v1_BlobRef, _peercas_p2p_v1_BlobRef__Output>
        BodyEncoding: EnumTypeDefinition
        Delta: MessageTypeDefinition<_peercas_p2p_v1_Delta, _peercas_p2p_v1_Delta__Output>
        FetchRequest: MessageTypeDefinition<_peercas_p2p_v1_FetchRequest, _peercas_p2p_v1_FetchRequest__Output>
        InlineBlob: MessageTypeDefinition<_peercas_p2p_v1_InlineBlob, _peercas_p2p_v1_InlineBlob__Output>
        ListPage: MessageTypeDefinition<_peercas_p2p_v1_ListPage, _peercas_p2p_v1_ListPage__Output>
        ListRequest: MessageTypeDefinition<_peercas_p2p_v1_ListRequest, _peercas_p2p_v1_ListRequest__Output>
        NameEntry: MessageTypeDefinition<_peercas_p2p_v1_NameEntry, _peercas_p2p_v1_NameEntry__Output>
        NamedResultRequest: MessageTypeDefinition<_peercas_p2p_v1_NamedResultRequest, _peercas_p2p_v1_NamedResultRequest__Output>
        NamedResultResponse: MessageTypeDefinition<_peercas_p2p_v1_NamedResultResponse, _peercas_p2p_v1_NamedResultResponse__Output>
        PieceMap: MessageTypeDefinition<_peercas_p2p_v1_PieceMap, _peercas_p2p_v1_PieceMap__Output>
        PieceMapRequest: MessageTypeDefinition<_peercas_p2p_v1_PieceMapRequest, _peercas_p2p_v1_PieceMapRequest__Output>
        PieceUpdate: MessageTypeDefinition<_peercas_p2p_v1_PieceUpdate, _peercas_p2p_v1_PieceUpdate__Output>
        SummaryPart: MessageTypeDefinition<_peercas_p2p_v1_SummaryPart, _peercas_p2p_v1_SummaryPart__Output>
        SummaryStart: MessageTypeDefinition<_peercas_p2p_v1_SummaryStart, _peercas_p2p_v1_SummaryStart__Output>
        Want: MessageTypeDefinition<_peercas_p2p_v1_Want, _peercas_p2p_v1_Want__Output>
      }
    }
  }
}


import type { Instant, SubjectId, Touchpoint } from '../vocabulary';
import type { ExtensionReason, RefusalReason, RightsCapture, RightsRequestKind } from './rights-events';

type Intent<Type extends string, Data> = Readonly<{ type: Type; requestId: string; capture: RightsCapture; data: Readonly<Data> }>;

export type ReceiveRightsRequest = Intent<
  'ReceiveRightsRequest',
  {
    subjectId: SubjectId;
    kind: RightsRequestKind;
    touchpoint: Touchpoint;
    /** When the operator held every piece of information it needed: the 30 days start then. */
    receivedAt: Instant;
  }
>;
export type ExtendRightsRequest = Intent<'ExtendRightsRequest', { byDays: number; reason: ExtensionReason; detail?: string }>;
export type CompleteRightsRequest = Intent<'CompleteRightsRequest', Record<string, never>>;
export type RefuseRightsRequest = Intent<'RefuseRightsRequest', { reason: RefusalReason; detail?: string }>;

export type RightsRequestCommand = ReceiveRightsRequest | ExtendRightsRequest | CompleteRightsRequest | RefuseRightsRequest;
export type RightsRequestCommandType = RightsRequestCommand['type'];

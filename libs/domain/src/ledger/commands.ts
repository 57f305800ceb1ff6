import type {
  Actor,
  Brand,
  Channel,
  DataSource,
  Instant,
  PurposeId,
  RelationshipKind,
  ReviewOutcome,
  Sealed,
  Segment,
  SubjectId,
  Touchpoint,
} from '../vocabulary';

/**
 * Commands are what channel systems ask for. The edge has already validated their shape; the
 * decider checks them against the subject's history and the catalogue.
 */

/** The evidence the edge attaches: the channel's account plus the time the ledger records it. */
export interface CommandCapture {
  readonly touchpoint: Touchpoint;
  readonly actor: Actor;
  readonly occurredAt: Instant;
  readonly recordedAt: Instant;
  /** See `Capture.statedAt`. */
  readonly statedAt?: Instant;
  readonly idempotencyKey: string;
  readonly noticeVersion?: string;
  readonly locale?: string;
  readonly evidenceRef?: Sealed;
}

type Intent<Type extends string, Data> = Readonly<{
  type: Type;
  subjectId: SubjectId;
  brand: Brand;
  capture: CommandCapture;
  data: Readonly<Data>;
}>;

export type GiveConsent = Intent<
  'GiveConsent',
  {
    purpose: PurposeId;
    /** Omitted: every channel the purpose uses. */
    channels?: readonly Channel[];
    /** An end date the subject chose, earlier than the catalogue's validity. */
    validUntil?: Instant;
    personalData?: Sealed;
  }
>;
export type WithdrawConsent = Intent<'WithdrawConsent', { purpose: PurposeId }>;
/** `purpose` may be a purpose group, e.g. `direct-marketing`. */
export type ObjectToProcessing = Intent<'Object', { purpose: string; justification?: Sealed }>;
export type WithdrawObjection = Intent<'WithdrawObjection', { purpose: string }>;
export type ReviewObjection = Intent<'ReviewObjection', { purpose: string; outcome: ReviewOutcome }>;
export type RestrictChannel = Intent<'RestrictChannel', { channel: Channel; purpose?: PurposeId }>;
export type LiftChannelRestriction = Intent<'LiftChannelRestriction', { channel: Channel; purpose?: PurposeId }>;
export type OptOutSource = Intent<'OptOutSource', { source: DataSource; purpose?: PurposeId }>;
export type OptInSource = Intent<'OptInSource', { source: DataSource; purpose?: PurposeId }>;
export type StartRelationship = Intent<'StartRelationship', { relationship: RelationshipKind; segment?: Segment }>;
export type EndRelationship = Intent<'EndRelationship', Record<string, never>>;
export type EraseSubject = Intent<'EraseSubject', { basis: string }>;

export type LedgerCommand =
  | GiveConsent
  | WithdrawConsent
  | ObjectToProcessing
  | WithdrawObjection
  | ReviewObjection
  | RestrictChannel
  | LiftChannelRestriction
  | OptOutSource
  | OptInSource
  | StartRelationship
  | EndRelationship
  | EraseSubject;

export type LedgerCommandType = LedgerCommand['type'];

export const LEDGER_COMMAND_TYPES: readonly LedgerCommandType[] = [
  'GiveConsent',
  'WithdrawConsent',
  'Object',
  'WithdrawObjection',
  'ReviewObjection',
  'RestrictChannel',
  'LiftChannelRestriction',
  'OptOutSource',
  'OptInSource',
  'StartRelationship',
  'EndRelationship',
  'EraseSubject',
];

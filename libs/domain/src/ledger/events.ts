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
 * The ledger's events are the legally required proof of every choice: who expressed it, when,
 * where, through whom and under which notice. Never change a shipped event's shape: add a
 * version. No e-mail address, phone number or name appears in clear: personal data that must be
 * kept travels `Sealed` with the subject's own key.
 */
export const LEDGER_EVENT_SCHEMA_VERSION = 1;

/** Evidence every event carries: what an auditor needs to prove the choice years later. */
export interface Capture {
  readonly touchpoint: Touchpoint;
  readonly actor: Actor;
  /** When the person expressed the choice, as the channel reports it (a TV decoder may report late). */
  readonly occurredAt: Instant;
  /** When the ledger recorded it. */
  readonly recordedAt: Instant;
  /**
   * When the channel said the choice was made, kept only when that was ahead of our clock (a
   * channel clock running fast): `occurredAt` is then the arrival of its first delivery.
   */
  readonly statedAt?: Instant;
  /** The channel system's key for the request; the same key is never recorded twice. */
  readonly idempotencyKey: string;
  /** Version of the notice shown to the person (required for consents). */
  readonly noticeVersion?: string;
  /** Language of the interaction, as a BCP 47 tag (`fr-BE`, `nl-BE`). */
  readonly locale?: string;
  /** Reference to outside evidence, e.g. a call recording id, sealed because it can identify the person. */
  readonly evidenceRef?: Sealed;
  /**
   * The published catalogue the choice was decided under (`Catalogue.reference`), so that its
   * receipt quotes the purposes' wording of then, after the catalogue has changed. Absent on
   * choices recorded before catalogues were published in the log.
   */
  readonly catalogue?: string;
}

interface FactData {
  readonly subjectId: SubjectId;
  readonly brand: Brand;
  readonly capture: Capture;
}

type Fact<Type extends string, Data> = Readonly<{ type: Type; data: Readonly<FactData & Data> }>;

/** The subject became a prospect or a customer of `brand` (or changed segment). */
export type RelationshipStarted = Fact<'RelationshipStarted', { relationship: RelationshipKind; segment: Segment }>;

/** The relationship ended: a customer became a former customer, which opens the former-customer window. */
export type RelationshipEnded = Fact<'RelationshipEnded', { relationship: RelationshipKind }>;

/**
 * The subject agreed to `purpose` on `channels` under notice `capture.noticeVersion`.
 * `channels` is empty for a purpose that contacts nobody (profiling, cookies).
 */
export type ConsentGiven = Fact<
  'ConsentGiven',
  {
    purpose: PurposeId;
    channels: readonly Channel[];
    noticeVersion: string;
    locale?: string;
    /** End of validity: the catalogue's validity (prospects: 3 years) or an earlier date the subject chose. */
    expiresAt?: Instant;
    /** Contact details collected with the consent (e.g. at an event), sealed with the subject's key. */
    personalData?: Sealed;
  }
>;

/** The subject withdrew consent for `purpose` on every channel. Earlier processing stays lawful (art. 7(3)). */
export type ConsentWithdrawn = Fact<'ConsentWithdrawn', { purpose: PurposeId }>;

/**
 * The subject objected to `target`, a purpose or a purpose group such as `direct-marketing`.
 * `needsReview` when the purpose's objection must be motivated: processing is restricted
 * meanwhile (GDPR art. 18(1)(d)).
 */
export type ObjectionRaised = Fact<
  'ObjectionRaised',
  { target: string; needsReview: boolean; justification?: Sealed }
>;

export type ObjectionWithdrawn = Fact<'ObjectionWithdrawn', { target: string }>;

/**
 * The operator decided a motivated objection: `upheld` stops the processing, `rejected` means
 * compelling grounds override it and processing resumes.
 */
export type ObjectionReviewed = Fact<'ObjectionReviewed', { target: string; outcome: ReviewOutcome }>;

/** The subject does not want to be contacted on `channel`, for one purpose or (without `purpose`) for all. */
export type ChannelRestricted = Fact<'ChannelRestricted', { channel: Channel; purpose?: PurposeId }>;

export type ChannelRestrictionLifted = Fact<'ChannelRestrictionLifted', { channel: Channel; purpose?: PurposeId }>;

/** The subject does not want `source` used for profiling, for one purpose or (without `purpose`) for all. */
export type SourceOptedOut = Fact<'SourceOptedOut', { source: DataSource; purpose?: PurposeId }>;

export type SourceOptedIn = Fact<'SourceOptedIn', { source: DataSource; purpose?: PurposeId }>;

/**
 * The subject's personal data was erased (GDPR art. 17): its key is destroyed, so every sealed
 * value in the ledger is unreadable everywhere. The pseudonymous record stays as proof until its
 * retention ends; nothing but legal obligations may be processed afterwards.
 */
export type SubjectErased = Fact<'SubjectErased', { basis: string }>;

export type LedgerEvent =
  | RelationshipStarted
  | RelationshipEnded
  | ConsentGiven
  | ConsentWithdrawn
  | ObjectionRaised
  | ObjectionWithdrawn
  | ObjectionReviewed
  | ChannelRestricted
  | ChannelRestrictionLifted
  | SourceOptedOut
  | SourceOptedIn
  | SubjectErased;

export type LedgerEventType = LedgerEvent['type'];

export const LEDGER_EVENT_TYPES: readonly LedgerEventType[] = [
  'RelationshipStarted',
  'RelationshipEnded',
  'ConsentGiven',
  'ConsentWithdrawn',
  'ObjectionRaised',
  'ObjectionWithdrawn',
  'ObjectionReviewed',
  'ChannelRestricted',
  'ChannelRestrictionLifted',
  'SourceOptedOut',
  'SourceOptedIn',
  'SubjectErased',
];

/** Which stored event a decision rests on. */
export interface EventRef {
  readonly eventId: string;
  readonly revision: number;
}

/** A ledger event as read back from the store: the event plus where it sits in the subject's stream. */
export type RecordedLedgerEvent = LedgerEvent & EventRef;

export const isLedgerEventType = (type: string): type is LedgerEventType =>
  (LEDGER_EVENT_TYPES as readonly string[]).includes(type);

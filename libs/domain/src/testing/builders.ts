import type {
  EndRelationship,
  EraseSubject,
  GiveConsent,
  LiftChannelRestriction,
  ObjectToProcessing,
  OptInSource,
  OptOutSource,
  RestrictChannel,
  ReviewObjection,
  StartRelationship,
  WithdrawConsent,
  WithdrawObjection,
} from '../ledger/commands';
import type {
  Capture,
  ChannelRestricted,
  ChannelRestrictionLifted,
  ConsentGiven,
  ConsentWithdrawn,
  ObjectionRaised,
  ObjectionReviewed,
  ObjectionWithdrawn,
  RelationshipEnded,
  RelationshipStarted,
  SourceOptedIn,
  SourceOptedOut,
  SubjectErased,
} from '../ledger/events';
import type { Brand, Instant, ReviewOutcome, Sealed, SubjectId } from '../vocabulary';

/**
 * Builders with fixed, readable defaults: a subject of Proximus choosing in MyProximus on
 * 1 May 2024 under the notice of 27 February 2024. Override only what a test is about.
 */
export const SUBJECT = 'subject-1' as SubjectId;
export const NOTICE = '2024-02-27';
export const MAY_2024 = '2024-05-01T09:00:00.000Z' as Instant;

export const instant = (iso: string): Instant => new Date(iso).toISOString() as Instant;
export const sealed = (text: string): Sealed => `sealed:${text}` as Sealed;

interface Common {
  subjectId?: SubjectId;
  brand?: Brand;
  occurredAt?: string;
  recordedAt?: string;
  capture?: Partial<Capture>;
}

export function captureOf({ occurredAt = MAY_2024, recordedAt, capture = {} }: Common = {}): Capture {
  const at = instant(occurredAt);
  return {
    touchpoint: 'myproximus-web',
    actor: { kind: 'subject' },
    occurredAt: at,
    recordedAt: recordedAt ? instant(recordedAt) : at,
    idempotencyKey: `key-${at}`,
    ...capture,
  };
}

const envelope = (common: Common) => ({
  subjectId: common.subjectId ?? SUBJECT,
  brand: common.brand ?? ('proximus' as Brand),
  capture: captureOf(common),
});

/** Commands and events share the subject, brand and evidence; these lift them out of the overrides. */
const split = <T extends Common>({ subjectId, brand, occurredAt, recordedAt, capture, ...rest }: T) => ({
  common: { subjectId, brand, occurredAt, recordedAt, capture },
  rest,
});

const consentCapture = (common: Common): Common => ({ ...common, capture: { noticeVersion: NOTICE, locale: 'fr-BE', ...common.capture } });

export function giveConsent(overrides: Common & Partial<GiveConsent['data']> & { purpose: string }): GiveConsent {
  const { common, rest } = split(overrides);
  return { type: 'GiveConsent', ...envelope(consentCapture(common)), data: rest };
}
/** An event's own fields, without the subject, brand and evidence every event shares. */
type Fields<E extends { data: object }> = Omit<E['data'], 'subjectId' | 'brand' | 'capture'>;

export function consentGiven(overrides: Common & Partial<Fields<ConsentGiven>> & { purpose: string }): ConsentGiven {
  const { common, rest } = split(overrides);
  return { type: 'ConsentGiven', data: { ...envelope(consentCapture(common)), channels: [], noticeVersion: NOTICE, locale: 'fr-BE', ...rest } };
}

export const withdrawConsent = (overrides: Common & { purpose: string }): WithdrawConsent => {
  const { common, rest } = split(overrides);
  return { type: 'WithdrawConsent', ...envelope(common), data: rest };
};
export const consentWithdrawn = (overrides: Common & { purpose: string }): ConsentWithdrawn => {
  const { common, rest } = split(overrides);
  return { type: 'ConsentWithdrawn', data: { ...envelope(common), ...rest } };
};

export const objectTo = (overrides: Common & { purpose: string; justification?: Sealed }): ObjectToProcessing => {
  const { common, rest } = split(overrides);
  return { type: 'Object', ...envelope(common), data: rest };
};
export const objectionRaised = (overrides: Common & { target: string; needsReview?: boolean; justification?: Sealed }): ObjectionRaised => {
  const { common, rest } = split(overrides);
  return { type: 'ObjectionRaised', data: { ...envelope(common), needsReview: false, ...rest } };
};

export const withdrawObjection = (overrides: Common & { purpose: string }): WithdrawObjection => {
  const { common, rest } = split(overrides);
  return { type: 'WithdrawObjection', ...envelope(common), data: rest };
};
export const objectionWithdrawn = (overrides: Common & { target: string }): ObjectionWithdrawn => {
  const { common, rest } = split(overrides);
  return { type: 'ObjectionWithdrawn', data: { ...envelope(common), ...rest } };
};

/** Reviews are decided by the DPO's office, not by the subject. */
const byReviewer = (common: Common): Common => ({ ...common, capture: { actor: { kind: 'agent', id: 'dpo-7' }, touchpoint: 'dpo-email', ...common.capture } });

export const reviewObjection = (overrides: Common & ReviewObjection['data']): ReviewObjection => {
  const { common, rest } = split(overrides);
  return { type: 'ReviewObjection', ...envelope(byReviewer(common)), data: rest };
};
export const objectionReviewed = (overrides: Common & { target: string; outcome: ReviewOutcome }): ObjectionReviewed => {
  const { common, rest } = split(overrides);
  return {
    type: 'ObjectionReviewed',
    data: { ...envelope(byReviewer(common)), ...rest },
  };
};

export const restrictChannel = (overrides: Common & RestrictChannel['data']): RestrictChannel => {
  const { common, rest } = split(overrides);
  return { type: 'RestrictChannel', ...envelope(common), data: rest };
};
export const channelRestricted = (overrides: Common & RestrictChannel['data']): ChannelRestricted => {
  const { common, rest } = split(overrides);
  return { type: 'ChannelRestricted', data: { ...envelope(common), ...rest } };
};
export const liftChannelRestriction = (overrides: Common & LiftChannelRestriction['data']): LiftChannelRestriction => {
  const { common, rest } = split(overrides);
  return { type: 'LiftChannelRestriction', ...envelope(common), data: rest };
};
export const channelRestrictionLifted = (overrides: Common & LiftChannelRestriction['data']): ChannelRestrictionLifted => {
  const { common, rest } = split(overrides);
  return { type: 'ChannelRestrictionLifted', data: { ...envelope(common), ...rest } };
};

export const optOutSource = (overrides: Common & OptOutSource['data']): OptOutSource => {
  const { common, rest } = split(overrides);
  return { type: 'OptOutSource', ...envelope(common), data: rest };
};
export const sourceOptedOut = (overrides: Common & OptOutSource['data']): SourceOptedOut => {
  const { common, rest } = split(overrides);
  return { type: 'SourceOptedOut', data: { ...envelope(common), ...rest } };
};
export const optInSource = (overrides: Common & OptInSource['data']): OptInSource => {
  const { common, rest } = split(overrides);
  return { type: 'OptInSource', ...envelope(common), data: rest };
};
export const sourceOptedIn = (overrides: Common & OptInSource['data']): SourceOptedIn => {
  const { common, rest } = split(overrides);
  return { type: 'SourceOptedIn', data: { ...envelope(common), ...rest } };
};

export const startRelationship = (overrides: Common & Partial<StartRelationship['data']> = {}): StartRelationship => {
  const { common, rest } = split(overrides);
  return { type: 'StartRelationship', ...envelope(common), data: { relationship: 'customer', ...rest } };
};
export const relationshipStarted = (overrides: Common & Partial<Fields<RelationshipStarted>> = {}): RelationshipStarted => {
  const { common, rest } = split(overrides);
  return { type: 'RelationshipStarted', data: { ...envelope(common), relationship: 'customer', segment: 'residential', ...rest } };
};
export const endRelationship = (overrides: Common = {}): EndRelationship => {
  const { common } = split(overrides);
  return { type: 'EndRelationship', ...envelope(common), data: {} };
};
export const relationshipEnded = (overrides: Common & Partial<Fields<RelationshipEnded>> = {}): RelationshipEnded => {
  const { common, rest } = split(overrides);
  return { type: 'RelationshipEnded', data: { ...envelope(common), relationship: 'customer', ...rest } };
};

export const eraseSubject = (overrides: Common & { basis?: string } = {}): EraseSubject => {
  const { common, rest } = split(overrides);
  return { type: 'EraseSubject', ...envelope(common), data: { basis: 'gdpr-art-17', ...rest } };
};
export const subjectErased = (overrides: Common & { basis?: string } = {}): SubjectErased => {
  const { common, rest } = split(overrides);
  return { type: 'SubjectErased', data: { ...envelope(common), basis: 'gdpr-art-17', ...rest } };
};

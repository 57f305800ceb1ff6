/**
 * The words of the ledger. Lists are data (`as const`) so the edge can validate input against
 * exactly what the domain understands, and a newcomer can read them in one place.
 */

/** Pseudonymous subject id. Never an e-mail address, phone number or name. */
export type SubjectId = string & { readonly __brand: 'SubjectId' };

/**
 * An instant as ISO-8601 UTC with milliseconds (`2024-05-01T09:00:00.000Z`). The edge normalises
 * every time to this form, so instants compare correctly as strings.
 */
export type Instant = string & { readonly __brand: 'Instant' };

/**
 * Ciphertext of personal data, sealed at the edge with the subject's own key (crypto-shredding):
 * the domain carries it as proof material and never reads it.
 */
export type Sealed = string & { readonly __brand: 'Sealed' };

/** Purpose id from the catalogue, e.g. `targeted-tv-advertising-pickx`. */
export type PurposeId = string;

/** Ways the operator may contact or address the subject. */
export const CHANNELS = ['phone', 'sms', 'email', 'post', 'online-popup', 'push', 'tv-screen', 'online-ads'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Kinds of data a profiling purpose may draw on; each can be opted out of. */
export const DATA_SOURCES = [
  'tv-viewing',
  'web-app-usage',
  'communications-usage',
  'device-data',
  'network-location',
  'loyalty-participation',
  'survey-answers',
  'third-party-data',
  'public-statistical-data',
  'advertising-cookies',
] as const;
export type DataSource = (typeof DATA_SOURCES)[number];

/** Where a choice was expressed or recorded. */
export const TOUCHPOINTS = [
  'myproximus-web',
  'myproximus-app',
  'tv-menu',
  'call-center',
  'shop',
  'dpo-email',
  'web-form',
  'unsubscribe-link',
  'sms-stop',
  'cookie-manager',
  'event',
  'partner-import',
  'system',
] as const;
export type Touchpoint = (typeof TOUCHPOINTS)[number];

export const BRANDS = ['proximus', 'scarlet'] as const;
export type Brand = (typeof BRANDS)[number];

export const ACTOR_KINDS = ['subject', 'representative', 'agent', 'system'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export const REPRESENTATIVE_ROLES = ['parent', 'guardian', 'legal-representative', 'business-contact'] as const;
export type RepresentativeRole = (typeof REPRESENTATIVE_ROLES)[number];

/**
 * Who expressed or entered the choice. `id` is pseudonymous too: an employee number for an agent,
 * the representative's own subject id, a job name for the system.
 */
export interface Actor {
  readonly kind: ActorKind;
  readonly id?: string;
  readonly role?: RepresentativeRole;
}

export const LEGAL_BASES = ['consent', 'contract', 'legal-obligation', 'vital-interest', 'legitimate-interest'] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

/**
 * How an objection works for a purpose: `free` needs no justification (direct marketing, GDPR
 * art. 21(2)); `motivated` needs a justification and a review (art. 21(1)); `none` cannot be
 * objected to (contract, legal obligation).
 */
export const OBJECTION_RULES = ['free', 'motivated', 'none'] as const;
export type ObjectionRule = (typeof OBJECTION_RULES)[number];

/** Who a purpose processes data about. */
export const AUDIENCES = [
  'prospect',
  'customer',
  'former-customer',
  'user',
  'visitor',
  'business-contact',
  'caller',
] as const;
export type Audience = (typeof AUDIENCES)[number];

/**
 * Why an erasure (GDPR art. 17) does not stop a purpose: `legal-obligation`, the law makes us
 * keep the data (art. 17(3)(b), e.g. billing records for tax and accounting); `legal-claims`,
 * the data is needed to establish, exercise or defend legal claims (art. 17(3)(e): debts,
 * disputes, proof of consent).
 */
export const ERASURE_EXCEPTIONS = ['legal-obligation', 'legal-claims'] as const;
export type ErasureException = (typeof ERASURE_EXCEPTIONS)[number];

export const RELATIONSHIP_KINDS = ['prospect', 'customer'] as const;
export type RelationshipKind = (typeof RELATIONSHIP_KINDS)[number];

export const SEGMENTS = ['residential', 'business'] as const;
export type Segment = (typeof SEGMENTS)[number];
/** A relationship started without a segment is a residential one. */
export const DEFAULT_SEGMENT: Segment = 'residential';

export const REVIEW_OUTCOMES = ['upheld', 'rejected'] as const;
export type ReviewOutcome = (typeof REVIEW_OUTCOMES)[number];

/** Why a decision came out the way it did. */
export const DECISION_REASONS = [
  'consent-active',
  'legitimate-interest',
  'contract',
  'legal-obligation',
  'vital-interest',
  'no-consent',
  'consent-withdrawn',
  'consent-expired',
  'notice-changed',
  'objected',
  'objection-pending-review',
  'no-relationship',
  'retention-window-ended',
  'channel-restricted',
  'source-opted-out',
  'not-applicable-to-brand',
  'channel-not-used-by-purpose',
  'source-not-used-by-purpose',
  'subject-erased',
] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

export const isOneOf =
  <T extends string>(values: readonly T[]) =>
  (value: unknown): value is T =>
    typeof value === 'string' && (values as readonly string[]).includes(value);

export const isChannel = isOneOf(CHANNELS);
export const isDataSource = isOneOf(DATA_SOURCES);
export const isTouchpoint = isOneOf(TOUCHPOINTS);
export const isBrand = isOneOf(BRANDS);

import type { Actor, Instant, SubjectId, Touchpoint } from '../vocabulary';

/**
 * A rights request (privacy statement §11, GDPR art. 12 and 15-21) and what the operator did with
 * it. Each request is its own stream, `rights-request-${requestId}`, apart from the subject's
 * consent ledger: the request is the operator's workload, not the person's choice. No personal
 * data: the subject appears only under its pseudonymous id.
 */
export const RIGHTS_EVENT_SCHEMA_VERSION = 1;

export const RIGHTS_REQUEST_KINDS = ['access', 'rectification', 'erasure', 'objection', 'portability'] as const;
export type RightsRequestKind = (typeof RIGHTS_REQUEST_KINDS)[number];

/** "le nombre de demandes en instance et [...] la complexité de celles-ci" (§11.2): the only grounds to extend. */
export const EXTENSION_REASONS = ['number-of-pending-requests', 'complexity'] as const;
export type ExtensionReason = (typeof EXTENSION_REASONS)[number];

/** Grounds to refuse: art. 12(5) unfounded or excessive, 12(6) identity not established, 17(3) data the law obliges us to keep. */
export const REFUSAL_REASONS = ['manifestly-unfounded', 'excessive', 'identity-not-verified', 'legal-obligation-to-keep'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** Who acted on the request and when it was recorded. */
export interface RightsCapture {
  readonly actor: Actor;
  readonly recordedAt: Instant;
}

type Fact<Type extends string, Data> = Readonly<{ type: Type; data: Readonly<{ requestId: string; capture: RightsCapture } & Data> }>;

/**
 * The operator holds a complete request (the 30 days run "dès que nous possédons tous les
 * renseignements nécessaires"): `dueAt` is `receivedAt` + 30 days.
 */
export type RightsRequestReceived = Fact<
  'RightsRequestReceived',
  {
    subjectId: SubjectId;
    kind: RightsRequestKind;
    touchpoint: Touchpoint;
    receivedAt: Instant;
    /**
     * The receipt instant the clerk's system stated, kept only when it was ahead of our clock (by at
     * most `MAX_CLOCK_SKEW_MS`): `receivedAt` is then when the request was recorded.
     */
    statedReceivedAt?: Instant;
    dueAt: Instant;
  }
>;

/** The answer is delayed by `byDays`, within the 60 days the statement allows in total, decided before the first deadline. */
export type RightsRequestExtended = Fact<
  'RightsRequestExtended',
  { byDays: number; reason: ExtensionReason; detail?: string; previousDueAt: Instant; newDueAt: Instant }
>;

/** The request was answered; `onTime` when by the due date in force. */
export type RightsRequestCompleted = Fact<'RightsRequestCompleted', { completedAt: Instant; onTime: boolean }>;

/** The request was refused on one of the grounds the law allows; the refusal is itself an answer with a due date. */
export type RightsRequestRefused = Fact<'RightsRequestRefused', { refusedAt: Instant; reason: RefusalReason; detail?: string; onTime: boolean }>;

export type RightsRequestEvent = RightsRequestReceived | RightsRequestExtended | RightsRequestCompleted | RightsRequestRefused;
export type RightsRequestEventType = RightsRequestEvent['type'];
export const RIGHTS_REQUEST_EVENT_TYPES: readonly RightsRequestEventType[] = [
  'RightsRequestReceived',
  'RightsRequestExtended',
  'RightsRequestCompleted',
  'RightsRequestRefused',
];
export const isRightsRequestEventType = (type: string): type is RightsRequestEventType =>
  (RIGHTS_REQUEST_EVENT_TYPES as readonly string[]).includes(type);

/** The one place a request's stream name is built. */
export const rightsRequestStreamOf = (requestId: string): string => `rights-request-${requestId}`;
export const RIGHTS_REQUEST_STREAM_PREFIX = 'rights-request-';

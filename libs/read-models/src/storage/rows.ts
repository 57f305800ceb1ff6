import { type Brand, BRANDS, type Instant } from '@consent-ledger/domain';
import type { AudienceId, AudienceRow } from '../audience-membership/audience-membership.projection';
import type { SubjectChange } from '../change-set';
import type { SuppressionReason, SuppressionRow } from '../channel-suppressions/channel-suppressions.projection';
import type { DecisionRow } from '../current-decisions/current-decisions.projection';
import { deserialiseLedger, serialiseLedger } from '../subject-ledger/ledger-snapshot';
import type { SubjectView } from '../subject-ledger/subject-view';
import type { StoredLedger } from './read-model-storage';

/** Column values shared by both adapters; positions travel as decimal strings (bigint-safe). */
export interface SubjectRecord {
  subject_id: string;
  brand: string;
  /** The brands the subject dealt with (`SubjectView.brands`), in the order of `BRANDS`. */
  brands: string[];
  ledger: string;
  last_position: string;
  last_occurred_at: string;
  evaluated_at: string;
  next_change_at: string | null;
  erased: boolean;
  /** JSON object: purpose → when its row next changes on its own. */
  expiries: string;
}

export interface AudienceRecord {
  audience: string;
  subject_id: string;
  member: boolean;
  since: string;
  valid_until: string | null;
  changed_at_position: string;
}

export interface DecisionRecord {
  subject_id: string;
  brand: string;
  purpose: string;
  allowed: boolean;
  reason: string;
  legal_basis: string;
  valid_until: string | null;
  based_on: string;
  channels: string[] | null;
  consented_channels: string[];
  restricted_channels: string[];
  opted_out_sources: string[];
  changes_at: string | null;
}

export interface SuppressionRecord {
  channel: string;
  subject_id: string;
  scope: string;
  reason: string;
  since: string;
}

export function subjectRecordOf(change: SubjectChange): SubjectRecord {
  const { view } = change;
  return {
    subject_id: view.subjectId,
    brand: view.brand,
    brands: BRANDS.filter((brand) => view.brands.has(brand)),
    ledger: serialiseLedger(view.ledger),
    last_position: view.lastPosition.toString(),
    last_occurred_at: view.lastOccurredAt,
    evaluated_at: view.evaluatedAt,
    next_change_at: change.nextChangeAt,
    erased: view.ledger.erasure !== undefined,
    expiries: JSON.stringify(Object.fromEntries(view.expiries)),
  };
}

export function viewOf(record: SubjectRecord, audiences: readonly AudienceRecord[]): SubjectView {
  return {
    subjectId: record.subject_id,
    brand: record.brand as Brand,
    brands: new Set(record.brands as Brand[]),
    ledger: deserialiseLedger(record.ledger),
    lastPosition: BigInt(record.last_position),
    lastOccurredAt: record.last_occurred_at as Instant,
    evaluatedAt: record.evaluated_at as Instant,
    audiences: new Map(audiences.map((row) => [row.audience as AudienceId, audienceRowOf(row)])),
    expiries: new Map(Object.entries(JSON.parse(record.expiries) as Record<string, Instant>)),
  };
}

/** The part of a subject row an audience question reads. */
export type LedgerRecord = Pick<SubjectRecord, 'subject_id' | 'ledger' | 'last_occurred_at'>;

export function storedLedgersOf(records: readonly LedgerRecord[]): Map<string, StoredLedger> {
  return new Map(records.map((record) => [record.subject_id, { ledger: deserialiseLedger(record.ledger), lastOccurredAt: record.last_occurred_at as Instant }]));
}

export const audienceRecordOf = (row: AudienceRow): AudienceRecord => ({
  audience: row.audience,
  subject_id: row.subjectId,
  member: row.member,
  since: row.since,
  valid_until: row.validUntil,
  changed_at_position: row.changedAt.toString(),
});

export const audienceRowOf = (record: AudienceRecord): AudienceRow => ({
  audience: record.audience as AudienceId,
  subjectId: record.subject_id,
  member: Boolean(record.member),
  since: record.since as Instant,
  validUntil: (record.valid_until ?? null) as Instant | null,
  changedAt: BigInt(record.changed_at_position),
});

export const decisionRecordOf = (row: DecisionRow): DecisionRecord => ({
  subject_id: row.subjectId,
  brand: row.brand,
  purpose: row.purpose,
  allowed: row.allowed,
  reason: row.reason,
  legal_basis: row.legalBasis,
  valid_until: row.validUntil,
  based_on: JSON.stringify(row.basedOn),
  channels: row.channels && [...row.channels],
  consented_channels: [...row.consentedChannels],
  restricted_channels: [...row.restrictedChannels],
  opted_out_sources: [...row.optedOutSources],
  changes_at: row.changesAt,
});

export const decisionRowOf = (record: DecisionRecord): DecisionRow => ({
  subjectId: record.subject_id,
  brand: record.brand as Brand,
  purpose: record.purpose,
  allowed: Boolean(record.allowed),
  reason: record.reason as DecisionRow['reason'],
  legalBasis: record.legal_basis as DecisionRow['legalBasis'],
  validUntil: (record.valid_until ?? null) as Instant | null,
  basedOn: JSON.parse(record.based_on) as DecisionRow['basedOn'],
  channels: record.channels as DecisionRow['channels'],
  consentedChannels: record.consented_channels as DecisionRow['consentedChannels'],
  restrictedChannels: record.restricted_channels as DecisionRow['restrictedChannels'],
  optedOutSources: record.opted_out_sources as DecisionRow['optedOutSources'],
  changesAt: (record.changes_at ?? null) as Instant | null,
});

export const suppressionRecordOf = (row: SuppressionRow): SuppressionRecord => ({
  channel: row.channel,
  subject_id: row.subjectId,
  scope: row.scope,
  reason: row.reason,
  since: row.since,
});

export const suppressionRowOf = (record: SuppressionRecord): SuppressionRow => ({
  channel: record.channel as SuppressionRow['channel'],
  subjectId: record.subject_id,
  scope: record.scope,
  reason: record.reason as SuppressionReason,
  since: record.since as Instant,
});

/** Ledger event subjects in a batch, each once: what a transaction loads before planning. */
export function subjectIdsOf(events: readonly { streamName: string; data: Record<string, unknown> }[]): string[] {
  const ids = new Set<string>();
  for (const event of events) {
    const subjectId = event.data.subjectId;
    if (typeof subjectId === 'string') ids.add(subjectId);
  }
  return [...ids];
}

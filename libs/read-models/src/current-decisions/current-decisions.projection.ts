import {
  type Catalogue,
  type Channel,
  channelScope,
  consentStatus,
  type DataSource,
  type DecisionReason,
  earliest,
  type EventRef,
  type Instant,
  type LegalBasis,
  mayProcess,
  type PurposeDefinition,
  type PurposeId,
  sourceScope,
} from '@consent-ledger/domain';
import type { SubjectView } from '../subject-ledger/subject-view';

/**
 * The current decision per subject × purpose, for consumers that read SQL: `mayProcess` without
 * a channel or source, plus what narrows it per channel and source. For an exact answer on one
 * channel or source, use `filterAudience` (it evaluates the ledger, not these columns).
 */
export interface DecisionRow {
  readonly subjectId: string;
  readonly purpose: PurposeId;
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  readonly legalBasis: LegalBasis;
  readonly validUntil: Instant | null;
  readonly basedOn: readonly EventRef[];
  /** Consent purposes: the purpose's channels the subject's active consent covers. */
  readonly consentedChannels: readonly Channel[];
  /** The purpose's channels the subject refused (for every purpose or this one). */
  readonly restrictedChannels: readonly Channel[];
  /** The purpose's data sources the subject opted out of (for every purpose or this one). */
  readonly optedOutSources: readonly DataSource[];
  /** When this row stops being true without a new event: the earliest expiry among what it shows. */
  readonly changesAt: Instant | null;
}

export function decisionRowsOf(view: SubjectView, catalogue: Catalogue): DecisionRow[] {
  return [...catalogue.purposes.values()].map((purpose) => decisionRowOf(view, purpose, catalogue));
}

function decisionRowOf(view: SubjectView, purpose: PurposeDefinition, catalogue: Catalogue): DecisionRow {
  const { ledger, evaluatedAt: at } = view;
  const decision = mayProcess(ledger, catalogue, { purpose: purpose.id, brand: view.brand, at });
  const consented =
    purpose.legalBasis === 'consent'
      ? purpose.channels.flatMap((channel) => {
          const status = consentStatus(ledger, purpose.id, at, channel);
          return status.state === 'active' ? [{ channel, expiresAt: status.grant.expiresAt }] : [];
        })
      : [];
  // Restrictions and opt-outs only bind purposes the subject has a say over (see mayProcess).
  const hasASay = purpose.objection !== 'none';
  const restrictedChannels = hasASay
    ? purpose.channels.filter((channel) =>
        [channelScope(channel), channelScope(channel, purpose.id)].some((key) => ledger.channelRestrictions.get(key)?.on),
      )
    : [];
  const optedOutSources = hasASay
    ? purpose.sources.filter((source) =>
        [sourceScope(source), sourceScope(source, purpose.id)].some((key) => ledger.sourceOptOuts.get(key)?.on),
      )
    : [];
  return {
    subjectId: view.subjectId,
    purpose: purpose.id,
    allowed: decision.allowed,
    reason: decision.reason,
    legalBasis: decision.legalBasis,
    validUntil: decision.validUntil,
    basedOn: decision.basedOn,
    consentedChannels: consented.map(({ channel }) => channel),
    restrictedChannels,
    optedOutSources,
    changesAt: earliest(decision.validUntil ?? undefined, ...consented.map(({ expiresAt }) => expiresAt)) ?? null,
  };
}

/** True when two rows say the same thing (so the table need not be written). */
export const isSameDecisionRow = (a: DecisionRow, b: DecisionRow): boolean => JSON.stringify(a) === JSON.stringify(b);

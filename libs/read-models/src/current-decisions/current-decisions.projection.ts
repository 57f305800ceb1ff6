import {
  audienceLeftAt,
  type Brand,
  type Catalogue,
  type Channel,
  consentStatus,
  type DataSource,
  type DecisionReason,
  earliest,
  type EventRef,
  initialLedger,
  type Instant,
  type LegalBasis,
  mayProcess,
  type PurposeDefinition,
  type PurposeId,
  restrictionOf,
  sourceOptOutOf,
  subjectHasASay,
} from '@consent-ledger/domain';
import type { SubjectView } from '../subject-ledger/subject-view';

/**
 * The current decision per subject × brand × purpose, for consumers that read SQL: `mayProcess`
 * for the brand without a channel or source, plus what narrows it per channel and source. For an
 * exact answer on one channel or source, use `filterAudience` (it evaluates the ledger, not these
 * columns).
 */
export interface DecisionRow {
  readonly subjectId: string;
  /** The brand the decision is for: a subject has rows for each brand it dealt with (`decisionBrandsOf`). */
  readonly brand: Brand;
  readonly purpose: PurposeId;
  readonly allowed: boolean;
  readonly reason: DecisionReason;
  readonly legalBasis: LegalBasis;
  readonly validUntil: Instant | null;
  readonly basedOn: readonly EventRef[];
  /** The channels the purpose may use now, as `mayProcess` lists them; null for a purpose that names none. */
  readonly channels: readonly Channel[] | null;
  /** Consent purposes: the purpose's channels the subject's active consent covers. */
  readonly consentedChannels: readonly Channel[];
  /** The purpose's channels the subject refused (for every purpose or this one). */
  readonly restrictedChannels: readonly Channel[];
  /** The purpose's data sources the subject opted out of (for every purpose or this one). */
  readonly optedOutSources: readonly DataSource[];
  /** When this row stops being true without a new event: the earliest expiry among what it shows. */
  readonly changesAt: Instant | null;
}

/**
 * The rows a subject with no history at all has: what the table implies for a subject without a
 * row for the purpose. Only rows that differ from these are stored, so a new subject giving one
 * consent costs one row, not one per purpose of the catalogue.
 */
export function defaultDecisionRowsOf(view: SubjectView, catalogue: Catalogue, purposes?: Iterable<PurposeDefinition>): DecisionRow[] {
  return decisionRowsOf(withoutHistory(view), catalogue, purposes);
}

/** The subject as it was before its first event: same brands and evaluation instant, an empty ledger. */
export function withoutHistory(view: SubjectView): SubjectView {
  return { ...view, ledger: initialLedger(), expiries: new Map() };
}

/** The subject's rows for its brand (`view.brand`), for every purpose of the catalogue or only for `purposes`. */
export function decisionRowsOf(view: SubjectView, catalogue: Catalogue, purposes: Iterable<PurposeDefinition> = catalogue.purposes.values()): DecisionRow[] {
  return [...purposes].map((purpose) => decisionRowOf(view, purpose, catalogue));
}

/**
 * The purposes whose rows may differ between two views of one subject, or `all`. A row depends on
 * the brand, relationships and erasure (any change: all rows), on the purpose's consent (and the
 * consent that renews it), objections to it or its groups, restrictions of its channels and
 * opt-outs of its sources, and on time only where it passes a row's `changesAt`. The ledger's
 * registers keep unchanged entries as the same objects, so a changed entry is found by identity.
 */
export function purposesTouched(before: SubjectView, after: SubjectView, catalogue: Catalogue): 'all' | Set<PurposeDefinition> {
  const b = before.ledger;
  const a = after.ledger;
  // Two empty registers are the same register: a new subject's ledger and `withoutHistory`'s differ only in identity.
  const sameRelationships = b.relationships === a.relationships || (b.relationships.size === 0 && a.relationships.size === 0);
  if (before.brand !== after.brand || b.erasure !== a.erasure || !sameRelationships) return 'all';

  const touched = new Set<PurposeDefinition>();
  const add = (id: PurposeId) => {
    const purpose = catalogue.purposes.get(id);
    if (purpose) touched.add(purpose);
  };
  // Time passing changes the purposes whose next change (of any brand of the subject) is due, as
  // `expiries` keeps it for each: a campaign's consents lapsing together cost two purposes each
  // to look at again, not the whole catalogue twice (found in review: 50,000 lapsing in one minute
  // took three).
  for (const [purpose, expiry] of before.expiries) {
    if (expiry > after.evaluatedAt) continue;
    add(purpose);
    for (const renewed of catalogue.purposes.values()) if (renewed.renewedBy === purpose) touched.add(renewed);
  }
  for (const purpose of changedKeys(b.consents, a.consents)) {
    add(purpose);
    for (const renewed of catalogue.purposes.values()) if (renewed.renewedBy === purpose) touched.add(renewed);
  }
  for (const target of changedKeys(b.objections, a.objections)) {
    for (const member of catalogue.groups.get(target)?.members ?? [target]) add(member);
  }
  for (const key of changedKeys(b.channelRestrictions, a.channelRestrictions)) {
    const { channel, purpose } = a.channelRestrictions.get(key) ?? b.channelRestrictions.get(key)!;
    for (const each of catalogue.purposes.values()) if (each.channels.includes(channel) && (purpose === undefined || purpose === each.id)) touched.add(each);
  }
  for (const key of changedKeys(b.sourceOptOuts, a.sourceOptOuts)) {
    const { source, purpose } = a.sourceOptOuts.get(key) ?? b.sourceOptOuts.get(key)!;
    for (const each of catalogue.purposes.values()) if (each.sources.includes(source) && (purpose === undefined || purpose === each.id)) touched.add(each);
  }
  return touched;
}

function changedKeys<K, V>(before: ReadonlyMap<K, V>, after: ReadonlyMap<K, V>): K[] {
  if (before === after) return [];
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => before.get(key) !== after.get(key));
}

function decisionRowOf(view: SubjectView, purpose: PurposeDefinition, catalogue: Catalogue): DecisionRow {
  const { ledger, evaluatedAt: at } = view;
  const decision = mayProcess(ledger, catalogue, { purpose: purpose.id, brand: view.brand, at });
  // A consent an erasure stopped covers nothing any more, and its expiry (or its notice's change)
  // must not have the sweep look at an erased subject again for nothing.
  const isStoppedByErasure = decision.reason === 'subject-erased';
  const consented =
    purpose.legalBasis === 'consent' && !isStoppedByErasure
      ? purpose.channels.flatMap((channel) => {
          const status = consentStatus(ledger, purpose, at, channel);
          return status.state === 'active' ? [{ channel, expiresAt: status.grant.expiresAt }] : [];
        })
      : [];
  // Restrictions and opt-outs only bind purposes the subject has a say over (see mayProcess).
  const hasASay = subjectHasASay(purpose);
  const restrictedChannels = hasASay ? purpose.channels.filter((channel) => restrictionOf(ledger, catalogue, channel, purpose)) : [];
  const optedOutSources = hasASay ? purpose.sources.filter((source) => sourceOptOutOf(ledger, source, purpose.id)) : [];
  return {
    subjectId: view.subjectId,
    brand: view.brand,
    purpose: purpose.id,
    allowed: decision.allowed,
    reason: decision.reason,
    legalBasis: decision.legalBasis,
    validUntil: decision.validUntil,
    basedOn: decision.basedOn,
    channels: decision.channels ?? null,
    consentedChannels: consented.map(({ channel }) => channel),
    restrictedChannels,
    optedOutSources,
    changesAt:
      earliest(
        decision.validUntil ?? undefined,
        ...consented.map(({ expiresAt }) => expiresAt),
        // An erasure's denial holds whatever the audience does: nothing to look at again.
        decision.allowed || isStoppedByErasure ? undefined : audienceLeftAt(ledger, purpose, { purpose: purpose.id, brand: view.brand, at }),
      ) ?? null,
  };
}

/**
 * True when two rows say the same thing (so the table need not be written). Compared field by
 * field: this runs for every purpose a change touches, a whole catalogue for a new subject.
 */
export function isSameDecisionRow(a: DecisionRow, b: DecisionRow): boolean {
  return (
    a.subjectId === b.subjectId &&
    a.brand === b.brand &&
    a.purpose === b.purpose &&
    a.allowed === b.allowed &&
    a.reason === b.reason &&
    a.legalBasis === b.legalBasis &&
    a.validUntil === b.validUntil &&
    a.changesAt === b.changesAt &&
    (a.channels === null || b.channels === null ? a.channels === b.channels : sameList(a.channels, b.channels)) &&
    sameList(a.consentedChannels, b.consentedChannels) &&
    sameList(a.restrictedChannels, b.restrictedChannels) &&
    sameList(a.optedOutSources, b.optedOutSources) &&
    a.basedOn.length === b.basedOn.length &&
    a.basedOn.every((ref, i) => ref.eventId === b.basedOn[i].eventId && ref.revision === b.basedOn[i].revision)
  );
}

const sameList = <T>(a: readonly T[], b: readonly T[]): boolean => a.length === b.length && a.every((item, i) => item === b[i]);

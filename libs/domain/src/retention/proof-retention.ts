import type { Catalogue, PurposeDefinition } from '../catalogue/catalogue';
import type { EventRef, RecordedLedgerEvent } from '../ledger/events';
import { type ConsentPurpose, endsByItself, givenConsentOf } from '../ledger/consent/consent-status';
import { type Choice, type ContractEnd, formerContractOf, isLater, ledgerOf, type Ledger, type PurposeConsent, type Relationship } from '../ledger/ledger';
import type { RightsRequest } from '../rights/rights-request';
import { addDuration, type Duration, earliest, latest } from '../time';
import type { Brand, Instant, PurposeId } from '../vocabulary';

/**
 * How long a subject's pseudonymous record must be kept as proof, and from when it may be removed.
 * The rule, in the words of the privacy statement (6.3.2.5, 7.1.1.1) and ADR 0006:
 *
 * - proof of a consent is kept for the consent's duration plus the proof retention (P5Y, the
 *   limitation period for complaints to the Belgian DPA): until its withdrawal, expiry or the
 *   subject's erasure, whichever came first, plus P5Y (a consent to a customer-only purpose also
 *   ends with the contract it was given under, or with the purpose's window after it);
 * - nothing is removed while a relationship is active, nor while a former customer's window for
 *   legitimate-interest marketing runs, nor for P5Y after either ended;
 * - a standing objection, channel restriction or source opt-out is itself an instruction: it is
 *   kept while anything it restricts could still be processed, then for P5Y;
 * - every choice is kept at least P5Y after it was expressed, and after it was recorded;
 * - nothing is removed while a rights request about the subject is open: it is answered with the
 *   record as it stands (ADR 0006).
 *
 * Erasure ends every effect at once, but for legal obligations and what the catalogue excepts
 * (billing records, legal claims: `erasureException`), which go on to their windows counted from
 * the end of the contract. So an erased prospect's record goes P5Y after the erasure, and an erased
 * customer's when the windows of those exceptions have closed, plus P5Y.
 */
export const RETENTION_HOLD_REASONS = [
  'relationship-active',
  'relationship-proof',
  'consent-in-force',
  'consent-proof',
  'standing-choice',
  'last-choice',
  'last-recording',
  'erasure-proof',
  'rights-request-open',
] as const;
export type RetentionHoldReason = (typeof RETENTION_HOLD_REASONS)[number];

/** One reason the record must still be kept. */
export interface RetentionHold {
  readonly reason: RetentionHoldReason;
  /** When this reason stops holding; null: not before a new choice (e.g. a consent without an end). */
  readonly until: Instant | null;
  readonly purpose?: PurposeId;
  readonly brand?: Brand;
  /** The open rights request that holds the record (its own stream, not the subject's). */
  readonly requestId?: string;
  readonly basedOn: readonly EventRef[];
}

export interface ProofRetention {
  /** From when the whole record may be removed; null while any hold has no known end. */
  readonly removableFrom: Instant | null;
  readonly isRemovable: boolean;
  readonly holds: readonly RetentionHold[];
}

/**
 * Whether, at `now`, the subject's record may be removed, and every reason it is kept.
 * `rightsRequests`: the subject's rights requests as they stand at `now` (they live in streams of
 * their own, so the caller brings them).
 */
export function proofRetentionOf(
  history: readonly RecordedLedgerEvent[],
  catalogue: Catalogue,
  now: Instant,
  rightsRequests: readonly RightsRequest[],
): ProofRetention {
  const holds = [...retentionHoldsOf(history, catalogue), ...rightsRequestHoldsOf(rightsRequests)];
  const removableFrom = removableFromOf(holds);
  return { removableFrom, isRemovable: removableFrom !== null && removableFrom <= now, holds };
}

/** The record may go once every hold ended; never while one has no known end. */
export const removableFromOf = (holds: readonly RetentionHold[]): Instant | null =>
  holds.length === 0 || holds.some((hold) => hold.until === null) ? null : latest(...holds.map((hold) => hold.until!))!;

/**
 * An open request holds the record without end: an access request is answered with the data as it
 * stands, and no request may be answered with "it was removed meanwhile". The hold ends with the
 * answer (completed or refused); the request's own stream keeps the proof that it was answered.
 */
export const rightsRequestHoldsOf = (requests: readonly RightsRequest[]): RetentionHold[] =>
  requests.flatMap((request) => (request.status === 'open' ? [{ reason: 'rights-request-open' as const, until: null, requestId: request.requestId, basedOn: [] }] : []));

/** The holds the subject's own history sets (rights requests aside). */
export function retentionHoldsOf(history: readonly RecordedLedgerEvent[], catalogue: Catalogue): RetentionHold[] {
  if (history.length === 0) return [];
  const ledger = ledgerOf(history);
  const proof = catalogue.definition.proofRetention;
  const erasedAt = ledger.erasure?.stamp.occurredAt;
  // Erasure ends every effect: an end still open, or later than the erasure, becomes the erasure.
  const effectEnd = (end: Instant | null): Instant | null => (erasedAt === undefined ? end : (earliest(end ?? undefined, erasedAt) ?? null));
  const keptFor = (end: Instant | null, duration: Duration): Instant | null => (end === null ? null : addDuration(end, duration));

  const holds: RetentionHold[] = [];
  const last = history.reduce((a, b) => (b.data.capture.occurredAt > a.data.capture.occurredAt ? b : a));
  holds.push({ reason: 'last-choice', until: addDuration(last.data.capture.occurredAt, proof), basedOn: [refOf(last)] });
  // The instants a channel states are its word: a contract's end dated twenty years back, sent
  // today by any key that may record commands, made the record removable at the next run, and the
  // job destroyed the proof and the key (found in security review). What the log received lately
  // stays as long as what the person did lately.
  const lastRecorded = history.reduce((a, b) => (b.data.capture.recordedAt > a.data.capture.recordedAt ? b : a));
  if (lastRecorded.data.capture.recordedAt > last.data.capture.occurredAt) {
    holds.push({ reason: 'last-recording', until: addDuration(lastRecorded.data.capture.recordedAt, proof), basedOn: [refOf(lastRecorded)] });
  }
  if (ledger.erasure && erasedAt !== undefined) {
    holds.push({ reason: 'erasure-proof', until: addDuration(erasedAt, proof), basedOn: [ledger.erasure.ref] });
  }

  for (const [purpose, consent] of ledger.consents) {
    const { end, basedOn } = consentEndOf(ledger, consent, catalogue.purposes.get(purpose) ?? { id: purpose });
    const until = keptFor(effectEnd(end), proofRetentionFor(catalogue, purpose));
    holds.push({ reason: until === null ? 'consent-in-force' : 'consent-proof', until, purpose, basedOn });
  }

  const relationshipEnds: (Instant | null)[] = [];
  for (const [brand, relationship] of ledger.relationships) {
    const contractEnd = formerContractOf(relationship);
    let end = effectEnd(relationship.active ? null : relationshipEffectEnd(relationship, contractEnd, catalogue, brand));
    // What the law keeps and legal claims need outlive an erasure, each to its own window counted
    // from the end of the contract (art. 17(3)(b), (e)): while the contract runs, so does the record.
    if (erasedAt !== undefined && hasErasureExceptions(catalogue, brand)) {
      if (relationship.active && relationship.kind === 'customer') end = null;
      else if (contractEnd) end = latest(end!, windowsClose(contractEnd, catalogue, brand, (purpose) => purpose.erasureException !== undefined))!;
    }
    relationshipEnds.push(end);
    // A prospect relationship held by the windows of an earlier contract names that contract's end too.
    const basedOn = contractEnd && contractEnd.ref.eventId !== relationship.ref.eventId ? [relationship.ref, contractEnd.ref] : [relationship.ref];
    holds.push({ reason: end === null ? 'relationship-active' : 'relationship-proof', until: keptFor(end, proof), brand, basedOn });
  }

  // A standing choice restricts processing for as long as anything could be processed: through a
  // relationship while one lasts, and without end for a subject no relationship bounds.
  const processingEnds = effectEnd(
    relationshipEnds.length === 0 || relationshipEnds.includes(null) ? null : latest(...(relationshipEnds as Instant[]))!,
  );
  const standing: Choice[] = [
    ...[...ledger.objections.values()].filter((objection) => objection.raised),
    ...[...ledger.channelRestrictions.values()].filter((restriction) => restriction.on),
    ...[...ledger.sourceOptOuts.values()].filter((optOut) => optOut.on),
  ];
  if (standing.length > 0) {
    holds.push({ reason: 'standing-choice', until: keptFor(processingEnds, proof), basedOn: standing.map((choice) => choice.ref) });
  }
  return holds;
}

/**
 * When a consent for a purpose stopped holding: each grant ends at a later withdrawal, or by itself
 * (`endsByItself`: its expiry, its notice replaced, the end of its contract); the consent ends when
 * its last grant ends. Null while a grant without end stands.
 */
export function consentEndOf(ledger: Ledger, consent: PurposeConsent, purpose: ConsentPurpose): { end: Instant | null; basedOn: EventRef[] } {
  const { withdrawal } = consent;
  if (consent.grants.size === 0) return { end: withdrawal?.stamp.occurredAt ?? null, basedOn: withdrawal ? [withdrawal.ref] : [] };
  let end: Instant | undefined;
  const basedOn = new Map<string, EventRef>();
  for (const grant of consent.grants.values()) {
    const withdrawn = withdrawal !== undefined && isLater(withdrawal.stamp, grant.stamp);
    const lapses = endsByItself(ledger, givenConsentOf(grant), purpose);
    const grantEnd = withdrawn ? earliest(withdrawal.stamp.occurredAt, lapses) : lapses;
    basedOn.set(grant.ref.eventId, grant.ref);
    if (withdrawn) basedOn.set(withdrawal.ref.eventId, withdrawal.ref);
    if (grantEnd === undefined) return { end: null, basedOn: [...basedOn.values()] };
    end = latest(end, grantEnd);
  }
  return { end: end ?? null, basedOn: [...basedOn.values()] };
}

/** Proof of a consent to `purpose` is kept this long after the consent ends. */
export const proofRetentionFor = (catalogue: Catalogue, purpose: PurposeId): Duration =>
  catalogue.purposes.get(purpose)?.proofRetention ?? catalogue.definition.proofRetention;

/**
 * A relationship decides processing until it ended, and a contract until the longest
 * former-customer window of the brand's purposes closes, whatever relationship followed it (a
 * former customer recorded again as a prospect).
 */
function relationshipEffectEnd(relationship: Relationship, contractEnd: ContractEnd | undefined, catalogue: Catalogue, brand: Brand): Instant {
  return latest(relationship.endedAt ?? relationship.stamp.occurredAt, contractEnd && windowsClose(contractEnd, catalogue, brand))!;
}

/** When the last former-customer window of the brand's purposes closes (legal obligations excepted: they never depend on the ledger). */
function windowsClose(contractEnd: ContractEnd, catalogue: Catalogue, brand: Brand, counts: (purpose: PurposeDefinition) => boolean = () => true): Instant {
  const windows = [...catalogue.purposes.values()]
    .filter((purpose) => purpose.formerCustomerWindow !== undefined && purpose.legalBasis !== 'legal-obligation' && !purpose.excludedBrands.includes(brand) && counts(purpose))
    .map((purpose) => addDuration(contractEnd.endedAt, purpose.formerCustomerWindow!));
  return latest(contractEnd.endedAt, ...windows)!;
}

const hasErasureExceptions = (catalogue: Catalogue, brand: Brand): boolean =>
  [...catalogue.purposes.values()].some((purpose) => purpose.erasureException !== undefined && !purpose.excludedBrands.includes(brand));

const refOf = (event: RecordedLedgerEvent): EventRef => ({ eventId: event.eventId, revision: event.revision });

import type { Catalogue, Party, PurposeCategory, PurposeDefinition } from '../catalogue/catalogue';
import { PublishedCatalogues, type TermsFrom } from '../catalogue/published-catalogues';
import { LEDGER_EVENT_SCHEMA_VERSION, type LedgerEventType, type RecordedLedgerEvent } from '../ledger/events';
import { evolve, initialLedger, isLater, type Ledger, ledgerOf } from '../ledger/ledger';
import { consentStatus, endsByItself } from '../ledger/consent/consent-status';
import { consentEndOf, proofRetentionFor, removableFromOf, retentionHoldsOf } from '../retention/proof-retention';
import { addDuration, type Duration, earliest } from '../time';
import type { Actor, Brand, Channel, Instant, LegalBasis, PurposeId, SubjectId, Touchpoint } from '../vocabulary';
import { purposesOfEvent } from './purposes-of-event';

/**
 * A consent receipt: one recorded choice, told with the fields of the Kantara Consent Receipt 1.1
 * and the ISO/IEC TS 27560 consent record, so the person, the DPO, an auditor or the DPA can read
 * the proof without knowing our event format. Field-by-field mapping: docs/receipts.md.
 */
/** 1.1: `termsFrom`, and the wording of the catalogue the choice was decided under. */
export const RECEIPT_SCHEMA_VERSION = '1.1';
export const KANTARA_RECEIPT_VERSION = 'KI-CR-v1.1.0';

/** Where the event sits in the tamper-evident log, as the store reports it. */
export interface ChainLink {
  readonly streamName: string;
  /** Global position, as a decimal string. */
  readonly position: string;
  readonly hash: string;
  readonly previousHash: string;
  /** When the store durably recorded the event. */
  readonly storedAt: Instant;
}

/** A ledger event read back from the store with its place in the hash chain. */
export type ProvenLedgerEvent = RecordedLedgerEvent & { readonly chain: ChainLink };

/** What the recorded choice was, in the words of ISO 27560 event states and W3C DPV consent statuses. */
export const RECEIPT_DECISIONS = [
  'consent-given',
  'consent-renewed',
  'consent-withdrawn',
  'objection-raised',
  'objection-raised-pending-review',
  'objection-withdrawn',
  'objection-upheld',
  'objection-rejected',
  'channel-restricted',
  'channel-restriction-lifted',
  'source-opted-out',
  'source-opted-in',
  'relationship-started',
  'relationship-ended',
  'subject-erased',
] as const;
export type ReceiptDecision = (typeof RECEIPT_DECISIONS)[number];

/** How the choice reached the ledger (Kantara `collectionMethod`, ISO collection method). */
export const COLLECTION_METHODS = ['expressed-by-subject', 'recorded-by-agent', 'expressed-by-representative', 'imported-from-partner', 'system'] as const;
export type CollectionMethod = (typeof COLLECTION_METHODS)[number];

export interface ReceiptParty extends Party {
  readonly role: 'controller' | 'joint-controller';
}

export interface ReceiptPurpose {
  readonly id: PurposeId;
  readonly name: string;
  readonly description: string;
  /** Section of the privacy statement that describes it. */
  readonly section: string;
  readonly category: PurposeCategory;
  readonly legalBasis: LegalBasis;
  /** Joint controllers (catalogue ids) deciding this processing with the controller. */
  readonly jointControllers: readonly string[];
  readonly recipients: readonly string[];
  readonly retention: {
    /** How long the data itself is kept, as the statement words it. */
    readonly data: string;
    /** Proof of a consent is kept for the consent's duration plus this. */
    readonly proof: Duration;
    /** Until when the proof of this purpose's consent is kept; null while the consent has no end. */
    readonly proofKeptUntil: Instant | null;
  };
  /** How the person withdraws or objects, as the statement words it. */
  readonly withdrawal: string;
}

export interface ConsentReceipt {
  readonly version: typeof KANTARA_RECEIPT_VERSION;
  readonly schemaVersion: typeof RECEIPT_SCHEMA_VERSION;
  /** The event id: the record's and the receipt's identifier. */
  readonly recordId: string;
  readonly eventType: LedgerEventType;
  readonly eventSchemaVersion: number;
  readonly subjectId: SubjectId;
  readonly brand: Brand;
  readonly jurisdiction: string;
  readonly controller: ReceiptParty;
  readonly jointControllers: readonly ReceiptParty[];
  readonly notice: {
    /** The version of the notice the person was shown; null for choices that name none. */
    readonly version: string | null;
    /** BCP 47 language of the interaction. */
    readonly language: string | null;
  };
  /** Version of the catalogue whose purpose terms (wording, legal basis, parties) this receipt shows. */
  readonly catalogueVersion: string;
  /**
   * Why those terms: the catalogue the choice was decided under, the latest one published for the
   * notice version the person was shown, or today's (a choice recorded before catalogues were
   * kept in the log). Validity and proof retention always follow the rules in force.
   */
  readonly termsFrom: TermsFrom;
  readonly decision: ReceiptDecision;
  readonly method: CollectionMethod;
  readonly touchpoint: Touchpoint;
  readonly actor: Actor;
  /** When the person expressed the choice. */
  readonly occurredAt: Instant;
  /** When the ledger recorded it (the knowledge clock of as-of answers). */
  readonly recordedAt: Instant;
  readonly channels: readonly Channel[];
  /** The purpose or purpose group an objection names. */
  readonly target?: string;
  readonly purposes: readonly ReceiptPurpose[];
  readonly validity: {
    readonly from: Instant;
    /** End of validity: expiry for a consent, the withdrawal itself for a withdrawal; null when it stands until changed. */
    readonly until: Instant | null;
    /** The catalogue's validity for the purpose (prospects: P3Y); null when consent lasts until withdrawn. */
    readonly duration: Duration | null;
    /** For a consent, an objection, a restriction or an opt-out: the later choice that ended it, if any. */
    readonly endedBy?: { readonly eventId: string; readonly decision: ReceiptDecision; readonly occurredAt: Instant };
  };
  readonly retention: {
    /** From when the subject's whole record may be removed; null while anything keeps it. */
    readonly recordRemovableFrom: Instant | null;
  };
  /** Personal data kept with the choice, sealed with the subject's key (read it through the export). */
  readonly sealedEvidence: readonly ('evidenceRef' | 'personalData' | 'justification')[];
  readonly integrity: {
    readonly algorithm: 'sha256-canonical-json-chain';
    readonly streamName: string;
    readonly revision: number;
    readonly position: string;
    readonly hash: string;
    readonly previousHash: string;
    readonly storedAt: Instant;
  };
}

/** The receipt of one recorded choice, read against the subject's whole history and the catalogue. */
export function consentReceiptOf(
  event: ProvenLedgerEvent,
  history: readonly RecordedLedgerEvent[],
  catalogue: Catalogue,
  published: PublishedCatalogues = new PublishedCatalogues(catalogue),
): ConsentReceipt {
  const ledger = ledgerOf(history);
  return receiptFrom(event, {
    ledger,
    recordRemovableFrom: removableFromOf(retentionHoldsOf(history, catalogue)),
    proofKeptUntil: (purpose) => proofKeptUntilOf(ledger, catalogue, purpose),
    decisionOf: (other) => decisionOf(other, history, catalogue),
    firstUndoing: (undone) => firstLater(undone, history.filter((other) => undoKeyOf(other) === undoneKeyOf(undone))),
    firstConsentEnding: (consent, until) => firstLater(consent, history.filter(isConsentEndingOf(consent.data.purpose)).filter(isBefore(until))),
  }, catalogue, published);
}

/**
 * The receipts of every event of a history, in its order: the same as `consentReceiptOf` on each,
 * but the history is read once for all of them (the whole-history facts a receipt tells, its
 * ledger and retention, are the same for every event), so a subject with years of choices does not
 * take the API's event loop for seconds.
 */
export function consentReceiptsOf(
  history: readonly ProvenLedgerEvent[],
  catalogue: Catalogue,
  published: PublishedCatalogues = new PublishedCatalogues(catalogue),
): ConsentReceipt[] {
  if (history.length === 0) return [];
  const ledger = ledgerOf(history);
  const decisions = decisionsOf(history, catalogue);
  const indexOf = new Map<RecordedLedgerEvent, number>(history.map((event, index) => [event, index]));
  const keptUntil = new Map<PurposeId, Instant | null>();
  const undoers = laterChoicesIndex(history, undoKeyOf);
  const consentEnders = consentEndingsIndex(history);
  const facts: HistoryFacts = {
    ledger,
    recordRemovableFrom: removableFromOf(retentionHoldsOf(history, catalogue)),
    proofKeptUntil: (purpose) => {
      if (!keptUntil.has(purpose)) keptUntil.set(purpose, proofKeptUntilOf(ledger, catalogue, purpose));
      return keptUntil.get(purpose)!;
    },
    decisionOf: (event) => decisions[indexOf.get(event)!],
    firstUndoing: (undone) => firstLaterIn(undone, undoers.get(undoneKeyOf(undone)!)),
    firstConsentEnding: (consent, until) => {
      // Candidates are in the person's order: if the first made after the consent is not before
      // its end by itself, no later one is either.
      const ending = firstLaterIn(consent, consentEnders(consent.data.purpose));
      return ending && isBefore(until)(ending) ? ending : undefined;
    },
  };
  return history.map((event) => receiptFrom(event, facts, catalogue, published));
}

/** What a receipt tells about the subject's whole history, however it was worked out. */
interface HistoryFacts {
  readonly ledger: Ledger;
  readonly recordRemovableFrom: Instant | null;
  readonly proofKeptUntil: (purpose: PurposeId) => Instant | null;
  readonly decisionOf: (event: RecordedLedgerEvent) => ReceiptDecision;
  /** The first later choice that undoes `undone` (an objection, a restriction, an opt-out), matched by `undoing`. */
  readonly firstUndoing: (undone: RecordedLedgerEvent) => RecordedLedgerEvent | undefined;
  /** The first later withdrawal of the consent's purpose, or erasure, made before `until` (its end by itself). */
  readonly firstConsentEnding: (consent: ConsentGivenEvent, until: Instant | undefined) => RecordedLedgerEvent | undefined;
}

type ConsentGivenEvent = Extract<RecordedLedgerEvent, { type: 'ConsentGiven' }>;

function receiptFrom(event: ProvenLedgerEvent, facts: HistoryFacts, catalogue: Catalogue, published: PublishedCatalogues): ConsentReceipt {
  // The words the person was given come from the catalogue of then; how long the choice holds and
  // its proof is kept follow the rules in force (`catalogue`).
  const terms = published.termsOf(event);
  const { definition } = terms.catalogue;
  const { capture } = event.data;
  const purposes = purposesOfEvent(event, terms.catalogue)
    .map((id) => terms.catalogue.purposes.get(id) ?? catalogue.purposes.get(id))
    .filter((purpose): purpose is PurposeDefinition => purpose !== undefined);
  const jointControllerIds = new Set(purposes.flatMap((purpose) => purpose.jointControllers));
  const validity = validityOf(event, facts, catalogue);
  // A consent's proof is kept from its own end, not the end of the purpose's latest consent
  // (found in review: a consent that ended with its Proximus contract read "kept without end"
  // because of a later Scarlet one).
  const ownEnd = event.type === 'ConsentGiven' ? earliest(validity.until ?? undefined, validity.endedBy?.occurredAt) : undefined;
  const proofKeptUntil = (purpose: PurposeId): Instant | null => {
    if (event.type !== 'ConsentGiven') return facts.proofKeptUntil(purpose);
    return ownEnd === undefined ? null : addDuration(ownEnd, proofRetentionFor(catalogue, purpose));
  };

  return {
    version: KANTARA_RECEIPT_VERSION,
    schemaVersion: RECEIPT_SCHEMA_VERSION,
    recordId: event.eventId,
    eventType: event.type,
    eventSchemaVersion: LEDGER_EVENT_SCHEMA_VERSION,
    subjectId: event.data.subjectId,
    brand: event.data.brand,
    jurisdiction: definition.jurisdiction,
    controller: { ...definition.controller, role: 'controller' },
    jointControllers: definition.jointControllers.filter((party) => jointControllerIds.has(party.id)).map((party) => ({ ...party, role: 'joint-controller' })),
    notice: {
      version: (event.type === 'ConsentGiven' ? event.data.noticeVersion : capture.noticeVersion) ?? null,
      language: (event.type === 'ConsentGiven' ? event.data.locale : undefined) ?? capture.locale ?? null,
    },
    catalogueVersion: definition.catalogueVersion,
    termsFrom: terms.from,
    decision: facts.decisionOf(event),
    method: methodOf(capture.actor, capture.touchpoint),
    touchpoint: capture.touchpoint,
    actor: capture.actor,
    occurredAt: capture.occurredAt,
    recordedAt: capture.recordedAt,
    channels: channelsOf(event),
    ...(isObjectionEvent(event) && { target: event.data.target }),
    purposes: purposes.map((purpose) => ({
      id: purpose.id,
      name: purpose.name,
      description: purpose.description,
      section: purpose.section,
      category: purpose.category,
      legalBasis: purpose.legalBasis,
      jointControllers: purpose.jointControllers,
      recipients: purpose.recipients,
      retention: { data: purpose.retention, proof: proofRetentionFor(catalogue, purpose.id), proofKeptUntil: proofKeptUntil(purpose.id) },
      withdrawal: purpose.withdrawal,
    })),
    validity,
    retention: { recordRemovableFrom: facts.recordRemovableFrom },
    sealedEvidence: [
      ...(capture.evidenceRef !== undefined ? (['evidenceRef'] as const) : []),
      ...(event.type === 'ConsentGiven' && event.data.personalData !== undefined ? (['personalData'] as const) : []),
      ...(event.type === 'ObjectionRaised' && event.data.justification !== undefined ? (['justification'] as const) : []),
    ],
    integrity: {
      algorithm: 'sha256-canonical-json-chain',
      streamName: event.chain.streamName,
      revision: event.revision,
      position: event.chain.position,
      hash: event.chain.hash,
      previousHash: event.chain.previousHash,
      storedAt: event.chain.storedAt,
    },
  };
}

function proofKeptUntilOf(ledger: Ledger, catalogue: Catalogue, purpose: PurposeId): Instant | null {
  const consent = ledger.consents.get(purpose);
  if (!consent) return null;
  const { end } = consentEndOf(ledger, consent, catalogue.purposes.get(purpose) ?? { id: purpose });
  // Erasure ends a consent that was still holding.
  const erasure = ledger.erasure;
  const ended = erasure && (end === null || erasure.stamp.occurredAt < end) ? erasure.stamp.occurredAt : end;
  return ended === null ? null : addDuration(ended, proofRetentionFor(catalogue, purpose));
}

/** The decision an event records; a consent given while an earlier one for the purpose still held is a renewal. */
export function decisionOf(event: RecordedLedgerEvent, history: readonly RecordedLedgerEvent[], catalogue: Catalogue): ReceiptDecision {
  if (event.type !== 'ConsentGiven') return decisionOfChoice(event);
  const earlier = history.filter((other) => other.eventId !== event.eventId && isLater(stampOf(event), stampOf(other)));
  return decisionOfConsent(event, ledgerOf(earlier), catalogue);
}

/**
 * The decisions of every event of a history, in its order: the same as `decisionOf` on each. A
 * consent is read against the choices the person made before it, so the history is folded once in
 * the person's order and each consent read against the ledger just before it; the ledger is the same
 * in any order its events are folded in (ADR 0001), so this is the ledger `decisionOf` folds.
 */
export function decisionsOf(history: readonly RecordedLedgerEvent[], catalogue: Catalogue): ReceiptDecision[] {
  const decisions = new Array<ReceiptDecision>(history.length);
  const inPersonsOrder = history.map((_, index) => index).sort((a, b) => compareStamps(history[a], history[b]) || a - b);
  let ledger = initialLedger();
  for (let start = 0; start < inPersonsOrder.length; ) {
    // Events made at the same stamp are none of them earlier than the others.
    let end = start + 1;
    while (end < inPersonsOrder.length && compareStamps(history[inPersonsOrder[start]], history[inPersonsOrder[end]]) === 0) end++;
    const together = inPersonsOrder.slice(start, end);
    for (const index of together) {
      const event = history[index];
      decisions[index] = event.type === 'ConsentGiven' ? decisionOfConsent(event, ledger, catalogue) : decisionOfChoice(event);
    }
    for (const index of together) ledger = evolve(ledger, history[index]);
    start = end;
  }
  return decisions;
}

function decisionOfConsent(event: ConsentGivenEvent, earlier: Ledger, catalogue: Catalogue): ReceiptDecision {
  // A consent that lapsed when the purpose's notice changed holds no longer: asked again, the person gives it anew.
  const purpose = catalogue.purposes.get(event.data.purpose) ?? { id: event.data.purpose };
  const status = consentStatus(earlier, purpose, event.data.capture.occurredAt);
  return status.state === 'active' ? 'consent-renewed' : 'consent-given';
}

function decisionOfChoice(event: Exclude<RecordedLedgerEvent, ConsentGivenEvent>): ReceiptDecision {
  switch (event.type) {
    case 'ConsentWithdrawn':
      return 'consent-withdrawn';
    case 'ObjectionRaised':
      return event.data.needsReview ? 'objection-raised-pending-review' : 'objection-raised';
    case 'ObjectionWithdrawn':
      return 'objection-withdrawn';
    case 'ObjectionReviewed':
      return event.data.outcome === 'upheld' ? 'objection-upheld' : 'objection-rejected';
    case 'ChannelRestricted':
      return 'channel-restricted';
    case 'ChannelRestrictionLifted':
      return 'channel-restriction-lifted';
    case 'SourceOptedOut':
      return 'source-opted-out';
    case 'SourceOptedIn':
      return 'source-opted-in';
    case 'RelationshipStarted':
      return 'relationship-started';
    case 'RelationshipEnded':
      return 'relationship-ended';
    case 'SubjectErased':
      return 'subject-erased';
  }
}

export function methodOf(actor: Actor, touchpoint: Touchpoint): CollectionMethod {
  if (touchpoint === 'partner-import') return 'imported-from-partner';
  switch (actor.kind) {
    case 'subject':
      return 'expressed-by-subject';
    case 'agent':
      return 'recorded-by-agent';
    case 'representative':
      return 'expressed-by-representative';
    case 'system':
      return 'system';
  }
}

function validityOf(event: RecordedLedgerEvent, facts: HistoryFacts, catalogue: Catalogue): ConsentReceipt['validity'] {
  const from = event.data.capture.occurredAt;
  if (event.type === 'ConsentWithdrawn') return { from, until: from, duration: null };
  if (event.type !== 'ConsentGiven') {
    const ending = undoneKeyOf(event) === undefined ? undefined : facts.firstUndoing(event);
    return { from, until: null, duration: null, ...(ending && { endedBy: endedByOf(ending, facts) }) };
  }
  const purpose = event.data.purpose;
  const { expiresAt, noticeVersion, brand } = event.data;
  const until = endsByItself(facts.ledger, { givenAt: from, expiresAt, noticeVersion, brand }, catalogue.purposes.get(purpose) ?? { id: purpose });
  // The first later choice that ends this consent while it still held: a withdrawal of the purpose, or the erasure.
  const ending = facts.firstConsentEnding(event, until);
  return {
    from,
    until: until ?? null,
    duration: catalogue.purposes.get(purpose)?.consentValidity ?? null,
    ...(ending && { endedBy: endedByOf(ending, facts) }),
  };
}

const isConsentEndingOf =
  (purpose: PurposeId) =>
  (other: RecordedLedgerEvent): boolean =>
    (other.type === 'ConsentWithdrawn' && other.data.purpose === purpose) || other.type === 'SubjectErased';

const isBefore =
  (until: Instant | undefined) =>
  (other: RecordedLedgerEvent): boolean =>
    until === undefined || other.data.capture.occurredAt < until;

/** Of `candidates`, the earliest made after `event` (by the person's clock, then the log's order). */
function firstLater(event: RecordedLedgerEvent, candidates: readonly RecordedLedgerEvent[]): RecordedLedgerEvent | undefined {
  return candidates.filter((other) => isLater(stampOf(other), stampOf(event))).sort((a, b) => (isLater(stampOf(b), stampOf(a)) ? -1 : 1))[0];
}

/** `firstLater` over candidates already in the person's order: a binary search. */
function firstLaterIn(event: RecordedLedgerEvent, candidates: readonly RecordedLedgerEvent[] | undefined): RecordedLedgerEvent | undefined {
  if (!candidates) return undefined;
  let low = 0;
  let high = candidates.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (isLater(stampOf(candidates[middle]), stampOf(event))) high = middle;
    else low = middle + 1;
  }
  return candidates[low];
}

/**
 * What undoes an objection, a restriction or an opt-out, as a key on each side: what undoes it
 * (`undoKeyOf`: its withdrawal, or a review that rejected it, as processing then resumes on
 * compelling grounds; a lift or opt-in) and what is undone
 * (`undoneKeyOf`), at the same scope only (a general lift leaves restrictions of single purposes
 * in force).
 */
function undoKeyOf(event: RecordedLedgerEvent): string | undefined {
  switch (event.type) {
    case 'ObjectionWithdrawn':
      return JSON.stringify(['objection', event.data.target]);
    case 'ObjectionReviewed':
      return event.data.outcome === 'rejected' ? JSON.stringify(['objection', event.data.target]) : undefined;
    case 'ChannelRestrictionLifted':
      return JSON.stringify(['channel', event.data.channel, event.data.purpose ?? null]);
    case 'SourceOptedIn':
      return JSON.stringify(['source', event.data.source, event.data.purpose ?? null]);
    default:
      return undefined;
  }
}

function undoneKeyOf(event: RecordedLedgerEvent): string | undefined {
  switch (event.type) {
    case 'ObjectionRaised':
      return JSON.stringify(['objection', event.data.target]);
    case 'ChannelRestricted':
      return JSON.stringify(['channel', event.data.channel, event.data.purpose ?? null]);
    case 'SourceOptedOut':
      return JSON.stringify(['source', event.data.source, event.data.purpose ?? null]);
    default:
      return undefined;
  }
}

/** The events `keyOf` gives a key, grouped by it, each group in the person's order. */
function laterChoicesIndex(history: readonly RecordedLedgerEvent[], keyOf: (event: RecordedLedgerEvent) => string | undefined): Map<string, RecordedLedgerEvent[]> {
  const groups = new Map<string, RecordedLedgerEvent[]>();
  for (const event of history) {
    const key = keyOf(event);
    if (key === undefined) continue;
    const group = groups.get(key);
    if (group) group.push(event);
    else groups.set(key, [event]);
  }
  for (const group of groups.values()) group.sort(compareStamps);
  return groups;
}

/** Per purpose, its withdrawals and every erasure, in the person's order (built the first time a purpose is asked). */
function consentEndingsIndex(history: readonly RecordedLedgerEvent[]): (purpose: PurposeId) => readonly RecordedLedgerEvent[] {
  const erasures = history.filter((event) => event.type === 'SubjectErased');
  const withdrawals = laterChoicesIndex(history, (event) => (event.type === 'ConsentWithdrawn' ? event.data.purpose : undefined));
  const endings = new Map<PurposeId, RecordedLedgerEvent[]>();
  return (purpose) => {
    let group = endings.get(purpose);
    if (!group) {
      group = [...(withdrawals.get(purpose) ?? []), ...erasures].sort(compareStamps);
      endings.set(purpose, group);
    }
    return group;
  };
}

const endedByOf = (ending: RecordedLedgerEvent, facts: HistoryFacts) => ({
  eventId: ending.eventId,
  decision: facts.decisionOf(ending),
  occurredAt: ending.data.capture.occurredAt,
});

function channelsOf(event: RecordedLedgerEvent): readonly Channel[] {
  if (event.type === 'ConsentGiven') return event.data.channels;
  if (event.type === 'ChannelRestricted' || event.type === 'ChannelRestrictionLifted') return [event.data.channel];
  return [];
}

const isObjectionEvent = (event: RecordedLedgerEvent): event is Extract<RecordedLedgerEvent, { type: 'ObjectionRaised' | 'ObjectionWithdrawn' | 'ObjectionReviewed' }> =>
  event.type === 'ObjectionRaised' || event.type === 'ObjectionWithdrawn' || event.type === 'ObjectionReviewed';

const stampOf = (event: RecordedLedgerEvent) => ({ occurredAt: event.data.capture.occurredAt, revision: event.revision });

/** Orders events as `isLater` does: by the person's clock, then the log's order. */
const compareStamps = (a: RecordedLedgerEvent, b: RecordedLedgerEvent): number =>
  isLater(stampOf(a), stampOf(b)) ? 1 : isLater(stampOf(b), stampOf(a)) ? -1 : 0;

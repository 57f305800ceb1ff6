import type { Catalogue, Party, PurposeCategory, PurposeDefinition } from '../catalogue/catalogue';
import { LEDGER_EVENT_SCHEMA_VERSION, type LedgerEventType, type RecordedLedgerEvent } from '../ledger/events';
import { isLater, type Ledger, ledgerOf } from '../ledger/ledger';
import { consentStatus, endsByItself } from '../ledger/consent/consent-status';
import { consentEndOf, proofRetentionFor, removableFromOf, retentionHoldsOf } from '../retention/proof-retention';
import { addDuration, type Duration } from '../time';
import type { Actor, Brand, Channel, Instant, LegalBasis, PurposeId, SubjectId, Touchpoint } from '../vocabulary';
import { purposesOfEvent } from './purposes-of-event';

/**
 * A consent receipt: one recorded choice, told with the fields of the Kantara Consent Receipt 1.1
 * and the ISO/IEC TS 27560 consent record, so the person, the DPO, an auditor or the DPA can read
 * the proof without knowing our event format. Field-by-field mapping: docs/receipts.md.
 */
export const RECEIPT_SCHEMA_VERSION = '1.0';
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
  /** Version of the catalogue whose purpose terms this receipt shows. */
  readonly catalogueVersion: string;
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
export function consentReceiptOf(event: ProvenLedgerEvent, history: readonly RecordedLedgerEvent[], catalogue: Catalogue): ConsentReceipt {
  const { definition } = catalogue;
  const { capture } = event.data;
  const purposes = purposesOfEvent(event, catalogue)
    .map((id) => catalogue.purposes.get(id))
    .filter((purpose): purpose is PurposeDefinition => purpose !== undefined);
  const jointControllerIds = new Set(purposes.flatMap((purpose) => purpose.jointControllers));
  const ledger = ledgerOf(history);
  const erasure = ledger.erasure;
  const proofKeptUntil = (purpose: PurposeId): Instant | null => {
    const consent = ledger.consents.get(purpose);
    if (!consent) return null;
    const { end } = consentEndOf(ledger, consent, catalogue.purposes.get(purpose) ?? { id: purpose });
    // Erasure ends a consent that was still holding.
    const ended = erasure && (end === null || erasure.stamp.occurredAt < end) ? erasure.stamp.occurredAt : end;
    return ended === null ? null : addDuration(ended, proofRetentionFor(catalogue, purpose));
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
    decision: decisionOf(event, history, catalogue),
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
    validity: validityOf(event, history, ledger, catalogue),
    retention: { recordRemovableFrom: removableFromOf(retentionHoldsOf(history, catalogue)) },
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

/** The decision an event records; a consent given while an earlier one for the purpose still held is a renewal. */
export function decisionOf(event: RecordedLedgerEvent, history: readonly RecordedLedgerEvent[], catalogue: Catalogue): ReceiptDecision {
  switch (event.type) {
    case 'ConsentGiven': {
      const earlier = history.filter((other) => other.eventId !== event.eventId && isLater(stampOf(event), stampOf(other)));
      // A consent that lapsed when the purpose's notice changed holds no longer: asked again, the person gives it anew.
      const purpose = catalogue.purposes.get(event.data.purpose) ?? { id: event.data.purpose };
      const status = consentStatus(ledgerOf(earlier), purpose, event.data.capture.occurredAt);
      return status.state === 'active' ? 'consent-renewed' : 'consent-given';
    }
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

function validityOf(event: RecordedLedgerEvent, history: readonly RecordedLedgerEvent[], ledger: Ledger, catalogue: Catalogue): ConsentReceipt['validity'] {
  const from = event.data.capture.occurredAt;
  if (event.type === 'ConsentWithdrawn') return { from, until: from, duration: null };
  if (event.type !== 'ConsentGiven') {
    const undoing = undoneBy(event);
    const ending = undoing && firstLater(event, history.filter(undoing));
    return { from, until: null, duration: null, ...(ending && { endedBy: endedByOf(ending, history, catalogue) }) };
  }
  const purpose = event.data.purpose;
  const { expiresAt, noticeVersion, brand } = event.data;
  const until = endsByItself(ledger, { givenAt: from, expiresAt, noticeVersion, brand }, catalogue.purposes.get(purpose) ?? { id: purpose });
  // The first later choice that ends this consent while it still held: a withdrawal of the purpose, or the erasure.
  const ending = firstLater(
    event,
    history
      .filter((other) => (other.type === 'ConsentWithdrawn' && other.data.purpose === purpose) || other.type === 'SubjectErased')
      .filter((other) => until === undefined || other.data.capture.occurredAt < until),
  );
  return {
    from,
    until: until ?? null,
    duration: catalogue.purposes.get(purpose)?.consentValidity ?? null,
    ...(ending && { endedBy: endedByOf(ending, history, catalogue) }),
  };
}

/**
 * What undoes an objection, a restriction or an opt-out: its withdrawal, lift or opt-in at the
 * same scope (a general lift leaves restrictions of single purposes in force), and for an
 * objection a review that rejects it (processing resumes on compelling grounds).
 */
function undoneBy(event: RecordedLedgerEvent): ((other: RecordedLedgerEvent) => boolean) | undefined {
  switch (event.type) {
    case 'ObjectionRaised':
      return (other) =>
        (other.type === 'ObjectionWithdrawn' || (other.type === 'ObjectionReviewed' && other.data.outcome === 'rejected')) && other.data.target === event.data.target;
    case 'ChannelRestricted':
      return (other) => other.type === 'ChannelRestrictionLifted' && other.data.channel === event.data.channel && other.data.purpose === event.data.purpose;
    case 'SourceOptedOut':
      return (other) => other.type === 'SourceOptedIn' && other.data.source === event.data.source && other.data.purpose === event.data.purpose;
    default:
      return undefined;
  }
}

/** Of `candidates`, the earliest made after `event` (by the person's clock, then the log's order). */
function firstLater(event: RecordedLedgerEvent, candidates: readonly RecordedLedgerEvent[]): RecordedLedgerEvent | undefined {
  return candidates.filter((other) => isLater(stampOf(other), stampOf(event))).sort((a, b) => (isLater(stampOf(b), stampOf(a)) ? -1 : 1))[0];
}

const endedByOf = (ending: RecordedLedgerEvent, history: readonly RecordedLedgerEvent[], catalogue: Catalogue) => ({
  eventId: ending.eventId,
  decision: decisionOf(ending, history, catalogue),
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

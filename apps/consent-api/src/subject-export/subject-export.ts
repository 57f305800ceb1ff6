import {
  type Catalogue,
  consentReceiptsOf,
  type ConsentReceipt,
  decisionsOf,
  describeChange,
  type Instant,
  ledgerOf,
  methodOf,
  preferencesOf,
  type Preferences,
  proofRetentionOf,
  type ProofRetention,
  type ProvenLedgerEvent,
  type ReceiptDecision,
  type RecordRemoval,
  type RightsRequest,
  type Sealed,
} from '@consent-ledger/domain';
import type { EventStore } from '@consent-ledger/event-store';
import type { CataloguesInTheLog } from '@consent-ledger/ledger-commands';
import type { PersonalDataVault } from '@consent-ledger/personal-data';
import { brandsDealtWithIn, isDealingWith, type OtherBrand, otherBrandsPreferencesOf, subjectBrandOf } from '@consent-ledger/read-models';
import { recordRemovalsOf, type SubjectIntegrity, subjectIntegrityOf, type SubjectRecord } from './subject-record';

/**
 * Everything held about a subject (GDPR art. 15 access, art. 20 portability), in the format
 * documented in docs/rights.md. Personal data sealed in the log is opened with the subject's key
 * while it exists and shows as "erased" once the log records the subject's erasure. A record the
 * proof-retention job removed is gone, personal data and all: the export says so (`removed`,
 * `removals`), from the job's own record of its runs.
 */
export const SUBJECT_EXPORT_FORMAT = 'consent-ledger/subject-export';
export const SUBJECT_EXPORT_FORMAT_VERSION = 1;
export const ERASED = 'erased';
/**
 * A sealed value the key store cannot open though the log records no erasure: not an erasure but
 * a key store out of step with the log (another deployment's, or restored from an older backup),
 * or a proof-retention run that dropped the key and then had to keep the stream.
 */
export const UNREADABLE = 'unreadable';

/**
 * A sealed value the export was asked not to open: the caller's key lacks `personal-data:read`.
 * What the subject chose, when and where stays in the export; only the personal data is left out.
 */
export const WITHHELD = 'withheld';

export type Unsealed<T> = T | typeof ERASED | typeof UNREADABLE | typeof WITHHELD;

export interface ExportedEvidence {
  /** Reference to outside evidence, e.g. a call recording id. */
  readonly reference?: Unsealed<string>;
  /** Contact details collected with a consent: name, email, phone, postalAddress. */
  readonly contact?: Unsealed<Record<string, string>>;
  /** The person's reasons for a motivated objection. */
  readonly justification?: Unsealed<string>;
}

export interface ExportedChoice {
  readonly eventId: string;
  readonly revision: number;
  readonly position: string;
  readonly type: ProvenLedgerEvent['type'];
  readonly decision: ReceiptDecision;
  readonly change: string;
  readonly brand: string;
  readonly occurredAt: Instant;
  readonly recordedAt: Instant;
  readonly storedAt: Instant;
  readonly touchpoint: string;
  readonly actor: ProvenLedgerEvent['data']['capture']['actor'];
  readonly method: string;
  readonly noticeVersion?: string;
  readonly locale?: string;
  /** The published catalogue the choice was decided under (`<version>#<digest>`); absent on choices recorded before catalogues were kept in the log. */
  readonly catalogue?: string;
  /** The event's own fields (purpose, channels, target, ...), without the sealed ones. */
  readonly details: Readonly<Record<string, unknown>>;
  readonly evidence: ExportedEvidence;
  readonly hash: string;
  readonly previousHash: string;
}

export interface SubjectExport {
  readonly format: typeof SUBJECT_EXPORT_FORMAT;
  readonly formatVersion: typeof SUBJECT_EXPORT_FORMAT_VERSION;
  readonly exportedAt: Instant;
  readonly subjectId: string;
  readonly controller: Catalogue['definition']['controller'];
  readonly jurisdiction: string;
  readonly catalogueVersion: string;
  /**
   * `readable`: sealed personal data is included in clear; `erased`: the subject was erased;
   * `unreadable`: some sealed value could not be opened though no erasure is recorded (see
   * `UNREADABLE`); `withheld`: sealed personal data is kept but was not opened for this caller
   * (see `WITHHELD`); `removed`: the record holds none, and an earlier record was removed with
   * whatever it held (`removals`); `none`: none is kept, and no record was ever removed.
   */
  readonly personalData: 'readable' | 'erased' | 'unreadable' | 'withheld' | 'removed' | 'none';
  readonly erasure?: { readonly eventId: string; readonly erasedAt: Instant; readonly basis: string };
  /** Present once the proof-retention job removed a record of the subject: each removal, oldest first. */
  readonly removals?: readonly RecordRemoval[];
  readonly relationships: Preferences['relationships'];
  readonly choices: readonly ExportedChoice[];
  readonly receipts: readonly ConsentReceipt[];
  /**
   * For the subject's brand as the state topic gives it (`subjectBrandOf`: of the latest running
   * relationship, else of the one that changed last, else of the latest choice, else of the
   * latest event; the default brand for a subject without events), and in `otherBrands` for
   * every other brand the subject dealt with (a relationship, or a choice made through one of its
   * touchpoints), as on the state topic.
   */
  readonly currentPreferences: Preferences & { readonly otherBrands?: readonly OtherBrand[] };
  readonly proofRetention: ProofRetention;
  /** Requests the person made under §11 (access, erasure, ...), with their due dates. */
  readonly rightsRequests: readonly RightsRequest[];
  readonly integrity: SubjectIntegrity;
}

export interface SubjectExportSources {
  readonly store: EventStore;
  readonly vault: PersonalDataVault;
  readonly catalogue: Catalogue;
  /** The catalogues in the log, whose wording the receipts quote. */
  readonly catalogues: CataloguesInTheLog;
  readonly now: Instant;
  readonly rightsRequests?: readonly RightsRequest[];
  /** Leave sealed personal data sealed: each value reads `withheld` (`erased` once the subject was erased). Default: opened. */
  readonly withholdPersonalData?: boolean;
}

export async function subjectExportOf(
  record: SubjectRecord,
  { store, vault, catalogue, catalogues, now, rightsRequests = [], withholdPersonalData = false }: SubjectExportSources,
): Promise<SubjectExport> {
  const { history, subjectId } = record;
  const ledger = ledgerOf(history);
  const latest = history.filter(isDealingWith).at(-1) ?? history.at(-1);
  const brand = latest && subjectBrandOf(ledger, latest.data.brand);
  const preferences = preferencesOf(ledger, catalogue, { at: now, ...(brand && { brand }) });
  // Erased is erased, whatever key remains: the erasure is in the log before its key is destroyed
  // (and a destroy cut off by a lock leaves the key until the erasure is repeated). Without an
  // erasure in the log, a missing key is not one: calling it "erased" would tell the person, or an
  // auditor reading a log backup, that data was erased that may well be readable elsewhere.
  let isAnyUnreadable = false;
  const unseal = async (sealed: Sealed): Promise<Unsealed<string>> => {
    if (ledger.erasure) return ERASED;
    if (withholdPersonalData) return WITHHELD;
    const opened = await vault.unseal(subjectId, sealed);
    if (opened === undefined) isAnyUnreadable = true;
    return opened ?? UNREADABLE;
  };
  const decisions = decisionsOf(history, catalogue);
  const choices = await Promise.all(history.map((event, index) => exportedChoiceOf(event, decisions[index], catalogue, unseal)));
  const hasSealedData = choices.some((choice) => Object.keys(choice.evidence).length > 0);
  const erasure = history.find((event) => event.type === 'SubjectErased');
  const integrity = await subjectIntegrityOf(store, record.streamName);
  const removals = await recordRemovalsOf(store, subjectId);
  const sealedState = ledger.erasure ? 'erased' : withholdPersonalData ? 'withheld' : isAnyUnreadable ? 'unreadable' : 'readable';
  const personalData = hasSealedData ? sealedState : removals.length > 0 ? 'removed' : 'none';

  return {
    format: SUBJECT_EXPORT_FORMAT,
    formatVersion: SUBJECT_EXPORT_FORMAT_VERSION,
    exportedAt: now,
    subjectId,
    controller: catalogue.definition.controller,
    jurisdiction: catalogue.definition.jurisdiction,
    catalogueVersion: catalogue.definition.catalogueVersion,
    personalData,
    ...(erasure?.type === 'SubjectErased' && {
      erasure: { eventId: erasure.eventId, erasedAt: erasure.data.capture.occurredAt, basis: erasure.data.basis },
    }),
    ...(removals.length > 0 && { removals }),
    relationships: preferences.relationships,
    choices,
    receipts: consentReceiptsOf(history, catalogue, await catalogues.for(history)),
    currentPreferences: { ...preferences, ...otherBrandsPreferencesOf({ ledger, brand: preferences.brand, brands: brandsDealtWithIn(history) }, catalogue, now) },
    proofRetention: proofRetentionOf(history, catalogue, now, rightsRequests),
    rightsRequests,
    integrity,
  };
}

async function exportedChoiceOf(
  event: ProvenLedgerEvent,
  decision: ReceiptDecision,
  catalogue: Catalogue,
  unseal: (sealed: Sealed) => Promise<Unsealed<string>>,
): Promise<ExportedChoice> {
  const { subjectId: _subject, brand, capture, ...fields } = event.data as unknown as Record<string, unknown> & Pick<ProvenLedgerEvent['data'], 'subjectId' | 'brand' | 'capture'>;
  const { personalData, justification, ...details } = fields as { personalData?: Sealed; justification?: Sealed } & Record<string, unknown>;
  const evidence: { -readonly [K in keyof ExportedEvidence]: ExportedEvidence[K] } = {};
  if (capture.evidenceRef !== undefined) evidence.reference = await unseal(capture.evidenceRef);
  if (personalData !== undefined) evidence.contact = contactOf(await unseal(personalData));
  if (justification !== undefined) evidence.justification = await unseal(justification);

  return {
    eventId: event.eventId,
    revision: event.revision,
    position: event.chain.position,
    type: event.type,
    decision,
    change: describeChange(event, catalogue),
    brand,
    occurredAt: capture.occurredAt,
    recordedAt: capture.recordedAt,
    storedAt: event.chain.storedAt,
    touchpoint: capture.touchpoint,
    actor: capture.actor,
    method: methodOf(capture.actor, capture.touchpoint),
    ...(capture.noticeVersion !== undefined && { noticeVersion: capture.noticeVersion }),
    ...(capture.locale !== undefined && { locale: capture.locale }),
    ...(capture.catalogue !== undefined && { catalogue: capture.catalogue }),
    details,
    evidence,
    hash: event.chain.hash,
    previousHash: event.chain.previousHash,
  };
}

/** Contact details are sealed as one JSON object; anything else is shown as the text it is. */
function contactOf(unsealed: Unsealed<string>): Unsealed<Record<string, string>> {
  if (unsealed === ERASED || unsealed === UNREADABLE || unsealed === WITHHELD) return unsealed;
  try {
    const parsed: unknown = JSON.parse(unsealed);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, string>;
  } catch {
    // not JSON: fall through
  }
  return { value: unsealed };
}

import type { ReferenceObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import {
  ACTOR_KINDS,
  type Actor,
  AUDIENCES,
  BRANDS,
  type CatalogueDefinition,
  CHANNELS,
  COLLECTION_METHODS,
  type ConsentReceipt,
  CONTROLLER_ROLES,
  DATA_SOURCES,
  DECISION_REASONS,
  type DecisionSummary,
  ERASURE_EXCEPTIONS,
  LEDGER_EVENT_TYPES,
  LEGAL_BASES,
  OBJECTION_RULES,
  type Party,
  type ProofRetention,
  type ProofRetentionRun,
  type ProofRetentionRunCompleted,
  PURPOSE_CATEGORIES,
  type PurposeDefinition,
  type PurposeGroupDefinition,
  RECEIPT_DECISIONS,
  RECEIPT_SCHEMA_VERSION,
  TERMS_FROM,
  type ReceiptParty,
  type ReceiptPurpose,
  type RecordRemoval,
  REFUSAL_REASONS,
  type RemovedRecord,
  type RightsRequestExtension,
  REPRESENTATIVE_ROLES,
  RETENTION_HOLD_REASONS,
  type RetentionFailure,
  type RetentionHold,
  RIGHTS_REQUEST_KINDS,
  EXTENSION_REASONS,
  type TimelinePurpose,
  TOUCHPOINTS,
} from '@consent-ledger/domain';
import type { TimelineAnswer } from '../audit/timeline.controller';
import type { ScrubHolder } from '@consent-ledger/personal-data';
import type { FeedHealth, HealthAnswer, HealthStatus, KeyScrubHealth } from '../health/health.controller';
import type { ProofRetentionRunList } from '../rights/proof-retention.controller';
import type { KnownRightsRequest, RightsRequestList, RightsRequestView } from '../rights/rights-requests.controller';
import type { ExportedChoice, ExportedEvidence, SubjectExport } from '../subject-export/subject-export';
import type { SubjectIntegrity } from '../subject-export/subject-record';
import type { HistoryEntry, SubjectHistoryAnswer } from '../subject-history/subject-history.query';

/**
 * The bodies of the answers about records (history, receipts, export, timeline, rights requests,
 * proof retention, the catalogue, health), each drawn from the TypeScript type the route answers
 * with: `objectSchema<T>` must name every field of `T` and no other, and exactly its optional
 * ones, so a field added to an answer without its documentation does not compile.
 */
type Schema = SchemaObject | ReferenceObject;
type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];

export function objectSchema<T>(properties: { readonly [K in keyof T]-?: Schema }, optional: { readonly [K in OptionalKeys<T>]: true }, description?: string): SchemaObject {
  const required = Object.keys(properties).filter((name) => !(name in optional));
  return { type: 'object', ...(description && { description }), properties, ...(required.length > 0 && { required }) };
}

/** A union of answers as the one object its schema describes: the fields every variant has, required; the others, optional. */
type Variants<T> = { [K in keyof T]: T[K] } & { [K in Exclude<T extends unknown ? keyof T : never, keyof T>]?: unknown };

export const instant: SchemaObject = { type: 'string', format: 'date-time' };
export const eventRef: SchemaObject = {
  type: 'object',
  properties: { eventId: { type: 'string', format: 'uuid' }, revision: { type: 'integer', minimum: 0 } },
  required: ['eventId', 'revision'],
};
export const ref = (schema: string): ReferenceObject => ({ $ref: `#/components/schemas/${schema}` });
const oneOf = (values: readonly string[], description?: string): SchemaObject => ({ type: 'string', enum: [...values], ...(description && { description }) });
const listOf = (items: Schema, description?: string): SchemaObject => ({ type: 'array', items, ...(description && { description }) });
const text = (description?: string): SchemaObject => ({ type: 'string', ...(description && { description }) });
const count: SchemaObject = { type: 'integer', minimum: 0 };
const nullableInstant = (description: string): SchemaObject => ({ ...instant, nullable: true, description });
const duration = (description: string): SchemaObject => ({ type: 'string', example: 'P5Y', description: `ISO-8601 duration: ${description}` });
const position: SchemaObject = { type: 'string', description: 'global log position, decimal (JSON has no 64-bit integers)' };
const nextPage: SchemaObject = {
  type: 'string',
  nullable: true,
  description: 'ask the next page with this as after (and the same other parameters); null on the last page',
};
const anyObject = (description: string): SchemaObject => ({ type: 'object', additionalProperties: true, description });
const UNSEALED_MARKERS = ['erased', 'unreadable', 'withheld'] as const;
const UNSEALED_DESCRIPTION =
  '"erased" once the subject was erased; "unreadable" when no key opens it though no erasure is recorded; "withheld" when the API key lacks personal-data:read';
/**
 * Sealed personal data in the export: in clear while the subject's key exists, else one of the
 * markers. Text in clear is one text schema, not a oneOf: a marker is text too, so it matched both
 * forms and a client holding to oneOf (exactly one) refused every erased or withheld export.
 */
const unsealed = (inClear: SchemaObject): SchemaObject =>
  inClear.type === 'string'
    ? { ...inClear, description: `${inClear.description ? `${inClear.description}; ` : ''}${UNSEALED_DESCRIPTION}` }
    : { oneOf: [inClear, oneOf(UNSEALED_MARKERS)], description: UNSEALED_DESCRIPTION };

const partyProperties = { id: text(), name: text(), address: text(), contact: text() } as const;
const party = objectSchema<Party>(partyProperties, {});
const actor = objectSchema<Actor>({ kind: oneOf(ACTOR_KINDS), id: text('pseudonymous'), role: oneOf(REPRESENTATIVE_ROLES) }, { id: true, role: true });
const recordRemoval = objectSchema<RecordRemoval>(
  { runId: text(), removedAt: instant, removableFrom: instant, eventsRemoved: count },
  {},
  'one removal of the record by the proof-retention job',
);
const subjectIntegrity = objectSchema<SubjectIntegrity>(
  {
    streamName: text(),
    intact: { type: 'boolean' },
    eventsChecked: count,
    firstBreak: {
      type: 'object',
      properties: { kind: oneOf(['altered', 'removed', 'reordered', 'inserted']), streamName: text(), revision: count, position, detail: text() },
      required: ['kind', 'detail'],
    },
  },
  { firstBreak: true },
  "the subject's hash chain, checked as the answer was read from it",
);
const decisionSummary = objectSchema<DecisionSummary>({ allowed: { type: 'boolean' }, reason: oneOf(DECISION_REASONS), basedOn: listOf(text('event id')) }, {});

const purposeDefinition = objectSchema<PurposeDefinition>(
  {
    id: text(),
    section: text('section of the privacy statement, e.g. 7.2.3.1'),
    name: text(),
    description: text(),
    category: oneOf(PURPOSE_CATEGORIES),
    legalBasis: oneOf(LEGAL_BASES),
    otherLegalBases: listOf(oneOf(LEGAL_BASES)),
    legalBasisStated: { type: 'boolean' },
    objection: oneOf(OBJECTION_RULES),
    audience: listOf(oneOf(AUDIENCES)),
    channels: listOf(oneOf(CHANNELS)),
    sources: listOf(oneOf(DATA_SOURCES)),
    excludedBrands: listOf(oneOf(BRANDS)),
    erasureException: oneOf(ERASURE_EXCEPTIONS, 'why the purpose goes on after an erasure, within its own window'),
    consentValidity: duration('how long a consent holds'),
    noticeChangedAt: instant,
    replacedNoticeVersions: listOf(text()),
    formerCustomerWindow: duration('how long after the relationship ended the purpose reaches former customers'),
    renewedBy: text('the consent purpose that reopens this one after the former-customer window'),
    proofRetention: duration('proof of a consent is kept for its duration plus this'),
    retention: text('retention of the data itself, as the statement words it'),
    recipients: listOf(text()),
    jointControllers: listOf(text('id of a jointControllers entry')),
    withdrawal: text(),
    role: oneOf(CONTROLLER_ROLES),
    note: text(),
    lines: text('where the statement says it'),
  },
  { erasureException: true, consentValidity: true, noticeChangedAt: true, replacedNoticeVersions: true, formerCustomerWindow: true, renewedBy: true, proofRetention: true, note: true },
);

const receiptPurpose = objectSchema<ReceiptPurpose>(
  {
    id: text(),
    name: text(),
    description: text(),
    section: text(),
    category: oneOf(PURPOSE_CATEGORIES),
    legalBasis: oneOf(LEGAL_BASES),
    jointControllers: listOf(text()),
    recipients: listOf(text()),
    retention: objectSchema<ReceiptPurpose['retention']>(
      { data: text(), proof: duration('proof kept for the consent duration plus this'), proofKeptUntil: nullableInstant('null while the consent has no end') },
      {},
    ),
    withdrawal: text(),
  },
  {},
);

const timelinePurpose = objectSchema<TimelinePurpose>(
  {
    purpose: text(),
    asChosen: { ...decisionSummary, description: "at the step's instant, with every choice recorded since" },
    asKnown: { ...decisionSummary, description: "at the step's instant, with only what was recorded up to this step" },
    differs: { type: 'boolean' },
    whenExpressed: objectSchema<NonNullable<TimelinePurpose['whenExpressed']>>({ asChosen: decisionSummary, asKnown: decisionSummary }, {}, 'late events only: both answers when the person made the choice'),
  },
  { whenExpressed: true },
);

const rightsRequestProperties = {
  status: oneOf(['open', 'completed', 'refused']),
  requestId: text(),
  subjectId: text(),
  kind: oneOf(RIGHTS_REQUEST_KINDS),
  touchpoint: oneOf(TOUCHPOINTS),
  receivedAt: { ...instant, description: 'the 30 days run from then' },
  statedReceivedAt: { ...instant, description: 'what was stated, when it was ahead of our clock' },
  initialDueAt: { ...instant, description: 'the first deadline: an extension must be decided before it' },
  dueAt: instant,
  extendedByDays: count,
  extensions: listOf(
    objectSchema<RightsRequestExtension>(
      {
        byDays: count,
        reason: oneOf(EXTENSION_REASONS),
        detail: text(),
        decidedAt: { ...instant, description: 'when it was recorded' },
        decidedBy: text('handledBy: a pseudonymous employee id, or the API client'),
        newDueAt: instant,
      },
      { detail: true, decidedBy: true },
    ),
    'each extension with the grounds the person was told, in the order decided; present once extended',
  ),
  closedAt: instant,
  onTime: { type: 'boolean' },
  refusal: objectSchema<NonNullable<KnownRightsRequest['refusal']>>({ reason: oneOf(REFUSAL_REASONS), detail: text() }, { detail: true }),
} as const;
const rightsRequestOptional = { statedReceivedAt: true, extensions: true, closedAt: true, onTime: true, refusal: true } as const;

const retentionHold = objectSchema<RetentionHold>(
  {
    reason: oneOf(RETENTION_HOLD_REASONS),
    until: nullableInstant('null: not before a new choice'),
    purpose: text(),
    brand: oneOf(BRANDS),
    requestId: text('the open rights request that holds the record'),
    basedOn: listOf(eventRef),
  },
  { purpose: true, brand: true, requestId: true },
);

const exportedEvidence = objectSchema<ExportedEvidence>(
  {
    reference: unsealed(text('reference to outside evidence, e.g. a call recording id')),
    contact: unsealed({ type: 'object', additionalProperties: { type: 'string' }, description: 'name, email, phone, postalAddress' }),
    justification: unsealed(text()),
  },
  { reference: true, contact: true, justification: true },
);

const exportedChoice = objectSchema<ExportedChoice>(
  {
    eventId: text(),
    revision: count,
    position,
    type: oneOf(LEDGER_EVENT_TYPES),
    decision: oneOf(RECEIPT_DECISIONS),
    change: text('the change in words'),
    brand: oneOf(BRANDS),
    occurredAt: instant,
    recordedAt: instant,
    storedAt: instant,
    touchpoint: oneOf(TOUCHPOINTS),
    actor,
    method: oneOf(COLLECTION_METHODS),
    noticeVersion: text(),
    locale: text(),
    catalogue: text('the published catalogue the choice was decided under, <catalogueVersion>#<digest>; absent before catalogues were kept in the log'),
    details: anyObject("the event's own fields (purpose, channels, target, ...), without the sealed ones"),
    evidence: exportedEvidence,
    hash: text(),
    previousHash: text(),
  },
  { noticeVersion: true, locale: true, catalogue: true },
);

const proofRetentionRunFields = {
  runId: text(),
  startedAt: instant,
  finishedAt: instant,
  catalogueVersion: text('the catalogue whose retention rules were applied'),
  dryRun: { type: 'boolean', description: 'a dry run decides and reports, and removes nothing' },
  subjectsChecked: count,
  removed: listOf(
    objectSchema<RemovedRecord>({ subjectId: text(), removableFrom: instant, eventsRemoved: count }, {}),
    'records removed (their keys destroyed); in a dry run, those that would be',
  ),
  failures: listOf(objectSchema<RetentionFailure>({ subjectId: text(), reason: text() }, {}), 'left for the next run'),
};
const proofRetentionRun = objectSchema<ProofRetentionRunCompleted['data']>(proofRetentionRunFields, {});

/** A run as the list gives it: completed, or stopped part-way and recorded by a later run. */
const recordedProofRetentionRun = objectSchema<Variants<ProofRetentionRun['data']>>(
  {
    ...proofRetentionRunFields,
    interrupted: {
      type: 'boolean',
      enum: [true],
      description: 'present on a run that stopped part-way (the store gone, the process killed) and recorded nothing itself: removed is what the store recorded it removing; it has no finishedAt, subjectsChecked or failures',
    },
    recordedAt: { ...instant, description: 'interrupted: when a later run recorded it' },
    recordedBy: text('interrupted: the runId of the run that recorded it'),
  },
  { finishedAt: true, dryRun: true, subjectsChecked: true, failures: true, interrupted: true, recordedAt: true, recordedBy: true },
  'one recorded run of the proof-retention job',
);

export const RECORD_SCHEMAS: Record<string, SchemaObject> = {
  Catalogue: objectSchema<CatalogueDefinition>(
    {
      catalogueVersion: text(),
      noticeVersion: text('version of the privacy notice the catalogue was read from'),
      earlierNoticeVersions: listOf(text('notice version'), 'notices the operator published before noticeVersion, which commands may still cite (late paperwork, consents migrated from before the ledger)'),
      jurisdiction: text(),
      controller: party,
      jointControllers: listOf(party),
      proofRetention: duration('proof of consent is kept for the consent duration plus this'),
      groups: listOf(
        objectSchema<PurposeGroupDefinition>({ id: text(), name: text(), description: text(), objection: oneOf(OBJECTION_RULES), members: listOf(text('purpose id')) }, {}),
      ),
      purposes: listOf(purposeDefinition),
    },
    { earlierNoticeVersions: true },
    'the purpose catalogue as loaded (catalogues/README.md)',
  ),
  SubjectHistory: objectSchema<SubjectHistoryAnswer>(
    {
      subjectId: text(),
      events: listOf(
        objectSchema<HistoryEntry>(
          {
            eventId: { type: 'string', format: 'uuid' },
            type: text(),
            schemaVersion: { type: 'integer' },
            revision: count,
            position,
            storedAt: { ...instant, description: 'when the store made the event durable' },
            hash: text(),
            previousHash: text(),
            data: anyObject('the event as recorded; personal data only sealed'),
            metadata: anyObject('causation, correlation and the idempotency fingerprint'),
          },
          {},
        ),
        'oldest first; empty for a subject never recorded, or whose record was removed',
      ),
      removals: listOf(recordRemoval, 'present once the proof-retention job removed a record of the subject, oldest first'),
      integrity: subjectIntegrity,
    },
    { removals: true },
  ),
  ConsentReceipt: objectSchema<ConsentReceipt>(
    {
      version: oneOf(['KI-CR-v1.1.0']),
      schemaVersion: oneOf([RECEIPT_SCHEMA_VERSION]),
      recordId: text('the event id'),
      eventType: oneOf(LEDGER_EVENT_TYPES),
      eventSchemaVersion: { type: 'integer' },
      subjectId: text(),
      brand: oneOf(BRANDS),
      jurisdiction: text(),
      controller: objectSchema<ReceiptParty>({ ...partyProperties, role: oneOf(['controller', 'joint-controller']) }, {}),
      jointControllers: listOf(objectSchema<ReceiptParty>({ ...partyProperties, role: oneOf(['controller', 'joint-controller']) }, {})),
      notice: objectSchema<ConsentReceipt['notice']>(
        { version: { type: 'string', nullable: true, description: 'null for choices that name none' }, language: { type: 'string', nullable: true, description: 'BCP 47' } },
        {},
      ),
      catalogueVersion: text('the catalogue whose purpose wording, legal bases and parties the receipt quotes'),
      termsFrom: oneOf(TERMS_FROM, 'recorded-catalogue: the one the choice was decided under; same-notice-catalogue: the latest published for the notice version shown; current-catalogue: today\'s (choices recorded before catalogues were kept in the log)'),
      decision: oneOf(RECEIPT_DECISIONS),
      method: oneOf(COLLECTION_METHODS),
      touchpoint: oneOf(TOUCHPOINTS),
      actor,
      occurredAt: { ...instant, description: 'when the person expressed the choice' },
      recordedAt: { ...instant, description: 'when the ledger recorded it' },
      channels: listOf(oneOf(CHANNELS)),
      target: text('the purpose or purpose group an objection names'),
      purposes: listOf(receiptPurpose),
      validity: objectSchema<ConsentReceipt['validity']>(
        {
          from: instant,
          until: nullableInstant('expiry for a consent, the withdrawal itself for a withdrawal; null while it stands until changed'),
          duration: { type: 'string', nullable: true, description: "the catalogue's validity for the purpose; null when consent lasts until withdrawn" },
          endedBy: objectSchema<NonNullable<ConsentReceipt['validity']['endedBy']>>({ eventId: text(), decision: oneOf(RECEIPT_DECISIONS), occurredAt: instant }, {}),
        },
        { endedBy: true },
      ),
      retention: objectSchema<ConsentReceipt['retention']>({ recordRemovableFrom: nullableInstant('null while anything keeps the record') }, {}),
      sealedEvidence: listOf(oneOf(['evidenceRef', 'personalData', 'justification'])),
      integrity: objectSchema<ConsentReceipt['integrity']>(
        { algorithm: oneOf(['sha256-canonical-json-chain']), streamName: text(), revision: count, position, hash: text(), previousHash: text(), storedAt: instant },
        {},
      ),
    },
    { target: true },
    'Kantara Consent Receipt 1.1 and ISO/IEC TS 27560 fields (docs/receipts.md)',
  ),
  IssuedConsentReceipt: {
    allOf: [ref('ConsentReceipt'), { type: 'object', properties: { issuedAt: { ...instant, description: 'what the receipt derives is as the log stood then (knownAt, or now)' } }, required: ['issuedAt'] }],
  },
  ConsentReceipts: {
    type: 'object',
    properties: { subjectId: text(), issuedAt: { ...instant, description: 'what the receipts derive is as the log stood then (knownAt, or now)' }, receipts: listOf(ref('ConsentReceipt'), 'oldest first') },
    required: ['subjectId', 'issuedAt', 'receipts'],
  },
  SubjectExport: objectSchema<SubjectExport>(
    {
      format: oneOf(['consent-ledger/subject-export']),
      formatVersion: { type: 'integer', enum: [1] },
      exportedAt: instant,
      subjectId: text(),
      controller: party,
      jurisdiction: text(),
      catalogueVersion: text(),
      personalData: oneOf(['readable', 'erased', 'unreadable', 'withheld', 'removed', 'none'], 'whether sealed personal data is included in clear (docs/rights.md)'),
      erasure: objectSchema<NonNullable<SubjectExport['erasure']>>({ eventId: text(), erasedAt: instant, basis: text() }, {}),
      removals: listOf(recordRemoval, 'present once the proof-retention job removed a record of the subject, oldest first'),
      relationships: { type: 'array', items: { type: 'object' }, description: 'as in Preferences' },
      choices: listOf(exportedChoice),
      receipts: listOf(ref('ConsentReceipt')),
      currentPreferences: {
        allOf: [
          ref('Preferences'),
          { type: 'object', properties: { otherBrands: listOf({ type: 'object', properties: { brand: oneOf(BRANDS), purposes: { type: 'array', items: { type: 'object' } } } }) } },
        ],
      },
      proofRetention: objectSchema<ProofRetention>(
        { removableFrom: nullableInstant('null while any hold has no known end'), isRemovable: { type: 'boolean' }, holds: listOf(retentionHold) },
        {},
      ),
      rightsRequests: listOf(ref('RightsRequest')),
      integrity: subjectIntegrity,
    },
    { erasure: true, removals: true },
    'everything held about the subject (docs/rights.md)',
  ),
  Timeline: objectSchema<TimelineAnswer>(
    {
      subjectId: text(),
      streamName: text(),
      steps: listOf(
        objectSchema<TimelineAnswer['steps'][number]>(
          {
            eventId: text(),
            revision: count,
            decision: oneOf(RECEIPT_DECISIONS),
            change: text(),
            occurredAt: instant,
            recordedAt: instant,
            touchpoint: oneOf(TOUCHPOINTS),
            actor,
            method: oneOf(COLLECTION_METHODS),
            late: { type: 'boolean', description: 'recorded more than 5 minutes after the person expressed it' },
            lateByMs: { type: 'integer' },
            outOfOrder: { type: 'boolean', description: 'expressed before a choice the ledger had already recorded' },
            purposes: listOf(timelinePurpose),
            position,
            hash: text(),
          },
          {},
        ),
        'in the order the ledger recorded them',
      ),
      integrity: subjectIntegrity,
    },
    {},
  ),
  RightsRequest: objectSchema<KnownRightsRequest>(rightsRequestProperties, rightsRequestOptional, 'a rights request as it stands'),
  RightsRequests: objectSchema<RightsRequestList>(
    {
      at: instant,
      dueWithin: text('as asked'),
      requests: listOf(
        objectSchema<RightsRequestView>(
          { ...rightsRequestProperties, overdue: { type: 'boolean', description: 'with dueWithin' }, daysLeft: { type: 'integer', description: 'with dueWithin' } },
          { ...rightsRequestOptional, overdue: true, daysLeft: true },
        ),
        'one page: in the order recorded, or with dueWithin most urgent first',
      ),
      next: nextPage,
    },
    { dueWithin: true },
  ),
  ProofRetentionRun: { ...proofRetentionRun, description: 'one run of the proof-retention job' },
  RecordedProofRetentionRun: recordedProofRetentionRun,
  ProofRetentionRuns: objectSchema<ProofRetentionRunList>({ runs: listOf(ref('RecordedProofRetentionRun'), 'one page, oldest first'), next: nextPage }, {}),
  // Closed, so that a validator tells it from Health in the oneOf /health answers with.
  HealthStatus: { ...objectSchema<HealthStatus>({ status: oneOf(['ready', 'unavailable']) }, {}, 'what /health tells a caller without a key'), additionalProperties: false },
  Health: objectSchema<HealthAnswer>(
    {
      status: oneOf(['ready', 'unavailable']),
      store: objectSchema<HealthAnswer['store']>(
        { kind: oneOf(['sqlite', 'postgres', 'kurrentdb', 'in-memory']), ready: { type: 'boolean' }, detail: text('why the store is not ready') },
        { detail: true },
      ),
      readModels: objectSchema<HealthAnswer['readModels']>(
        {
          upToDate: { type: 'boolean', description: 'whether the read models had applied every event the log held' },
          position: text('the last log position they have applied (decimal)'),
          logPosition: text("the log's last position (decimal)"),
          detail: text('why their position could not be read'),
        },
        { position: true, logPosition: true, detail: true },
      ),
      keyScrub: objectSchema<Variants<KeyScrubHealth>>(
        {
          state: oneOf(['done', 'pending', 'unknown'], "done: no destroyed personal-data key's bytes are left in the key store's files; pending: some may be, until the transactions in heldBy end"),
          owedSince: { ...instant, description: 'pending: when the first key whose bytes may be left was destroyed' },
          heldBy: listOf(
            objectSchema<Variants<ScrubHolder>>(
              {
                kind: oneOf(['session', 'prepared-transaction', 'replication-slot']),
                pid: { type: 'integer', description: "session: its pg_stat_activity pid" },
                applicationName: text('session: its application_name'),
                backendType: text('session: its backend_type'),
                transactionStartedAt: nullableInstant("session: when its transaction began; null when the key store's role may not see it"),
                gid: text('prepared-transaction: its gid in pg_prepared_xacts'),
                preparedAt: instant,
                slotName: text('replication-slot: its name in pg_replication_slots'),
              },
              { pid: true, applicationName: true, backendType: true, transactionStartedAt: true, gid: true, preparedAt: true, slotName: true },
            ),
            'pending: what began before those keys were destroyed and may still read their old rows, so that the rewrite removing them waits for it to end; [] once it ended, until the next try (every minute)',
          ),
          detail: text('unknown: why the key store could not be asked'),
        },
        { owedSince: true, heldBy: true, detail: true },
        'whether the bytes of destroyed personal-data keys are gone from the key store\'s files (docs/decisions/0006); the keys themselves are unreadable from their destruction on',
      ),
      feeds: listOf(
        objectSchema<FeedHealth>(
          {
            name: text('consent-feed, or consent-feed:<KAFKA_TOPIC_PREFIX>'),
            position: text('the last log position it published (decimal)'),
            behind: text('how many log positions it has not published yet: logPosition less position (decimal)'),
            leader: { type: 'string', nullable: true, description: 'the projector instance holding its lease now; null when none does, so nobody publishes it' },
          },
          {},
        ),
        'every Kafka feed the read-model database knows but those retired, in order of name; [] without Kafka; absent when that database could not be read (readModels.detail says why). A feed behind does not make the service unready',
      ),
      retiredFeeds: listOf(
        text('consent-feed:<KAFKA_TOPIC_PREFIX> of a deployment retired for good'),
        'the feeds retired for good (their outbox cursor deleted, no instance leading them) whose rows remain, in order of name; with feeds. Nobody is meant to publish them: not for alerting',
      ),
    },
    { feeds: true, retiredFeeds: true },
    'what /health tells a caller with a valid API key, of any scope',
  ),
};

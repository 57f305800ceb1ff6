import type {
  Brand,
  ChannelKey,
  ChannelRestriction,
  Choice,
  ConsentGrant,
  Ledger,
  Objection,
  PurposeConsent,
  PurposeId,
  Relationship,
  SourceOptOut,
  SubjectId,
} from '@consent-ledger/domain';

/**
 * A subject's folded ledger as JSON, so the read models can answer `mayProcess` for any channel,
 * source and instant without reading the subject's stream again. The domain's ledger holds Maps;
 * the snapshot holds their entries, in the same order, so a round trip gives an equal ledger.
 * `v` is the snapshot format: a new format means a rebuild, never an in-place conversion.
 */
export interface LedgerSnapshot {
  readonly v: typeof LEDGER_SNAPSHOT_VERSION;
  readonly subjectId?: SubjectId;
  readonly revision: number;
  readonly relationships: readonly (readonly [Brand, Relationship])[];
  readonly consents: readonly (readonly [PurposeId, { readonly grants: readonly (readonly [ChannelKey, ConsentGrant])[]; readonly withdrawal?: Choice }])[];
  readonly objections: readonly (readonly [string, Objection])[];
  readonly channelRestrictions: readonly (readonly [string, ChannelRestriction])[];
  readonly sourceOptOuts: readonly (readonly [string, SourceOptOut])[];
  readonly erasure?: Choice;
}

/**
 * 2: a relationship keeps its whole history (prospect starts and every end), its fields replayed from it.
 * 3: an objection does too (objections, withdrawals and reviews), so a review answers the objection of its instant.
 */
export const LEDGER_SNAPSHOT_VERSION = 3 as const;

export function snapshotOf(ledger: Ledger): LedgerSnapshot {
  return {
    v: LEDGER_SNAPSHOT_VERSION,
    ...(ledger.subjectId !== undefined && { subjectId: ledger.subjectId }),
    revision: ledger.revision,
    relationships: [...ledger.relationships],
    consents: [...ledger.consents].map(([purpose, consent]) => [
      purpose,
      { grants: [...consent.grants], ...(consent.withdrawal && { withdrawal: consent.withdrawal }) },
    ]),
    objections: [...ledger.objections],
    channelRestrictions: [...ledger.channelRestrictions],
    sourceOptOuts: [...ledger.sourceOptOuts],
    ...(ledger.erasure && { erasure: ledger.erasure }),
  };
}

/**
 * A snapshot written by another version of this code: in a rolling upgrade the read models are
 * another version's until the keeper running this one has rebuilt them.
 */
export class LedgerSnapshotFormatUnknown extends Error {
  constructor(readonly format: unknown) {
    super(`ledger snapshot format ${String(format)} is not understood: the read models are another version's, or must be rebuilt`);
    this.name = 'LedgerSnapshotFormatUnknown';
  }
}

export function ledgerFrom(snapshot: LedgerSnapshot): Ledger {
  if (snapshot.v !== LEDGER_SNAPSHOT_VERSION) throw new LedgerSnapshotFormatUnknown(snapshot.v);
  return {
    ...(snapshot.subjectId !== undefined && { subjectId: snapshot.subjectId }),
    revision: snapshot.revision,
    relationships: new Map(snapshot.relationships),
    consents: new Map(
      snapshot.consents.map(([purpose, consent]): [PurposeId, PurposeConsent] => [
        purpose,
        { grants: new Map(consent.grants), ...(consent.withdrawal && { withdrawal: consent.withdrawal }) },
      ]),
    ),
    objections: new Map(snapshot.objections),
    channelRestrictions: new Map(snapshot.channelRestrictions),
    sourceOptOuts: new Map(snapshot.sourceOptOuts),
    ...(snapshot.erasure && { erasure: snapshot.erasure }),
  };
}

/** JSON text for a column; `undefined` fields (e.g. a grant without expiry) are left out. */
export const serialiseLedger = (ledger: Ledger): string => JSON.stringify(snapshotOf(ledger));
export const deserialiseLedger = (text: string): Ledger => ledgerFrom(JSON.parse(text) as LedgerSnapshot);

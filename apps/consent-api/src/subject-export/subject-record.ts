import {
  type Instant,
  isLedgerEventType,
  LEDGER_EVENT_SCHEMA_VERSION,
  PROOF_RETENTION_RUNS_STREAM,
  type ProofRetentionRun,
  type ProvenLedgerEvent,
  type RecordedLedgerEvent,
  type RecordRemoval,
  recordRemovalOf,
  removalsOf,
} from '@consent-ledger/domain';
import type { EventStore, IntegrityBreak, StoredEvent } from '@consent-ledger/event-store';
import { ledgerStreamOf } from '@consent-ledger/ledger-commands';

/** A subject's stream as an auditor reads it: every event with its place in the hash chain. */
export interface SubjectRecord {
  readonly subjectId: string;
  readonly streamName: string;
  readonly history: readonly ProvenLedgerEvent[];
}

export class UnreadableLedgerEvent extends Error {
  constructor(stored: StoredEvent) {
    super(`${stored.streamName} revision ${stored.revision} holds ${stored.type} v${stored.schemaVersion}, which this version cannot read`);
    this.name = 'UnreadableLedgerEvent';
  }
}

export async function readSubjectRecord(store: EventStore, subjectId: string): Promise<SubjectRecord> {
  const streamName = ledgerStreamOf(subjectId);
  const stored = await store.readStream(streamName);
  return { subjectId, streamName, history: stored.map(provenEventOf) };
}

export function provenEventOf(stored: StoredEvent): ProvenLedgerEvent {
  if (!isLedgerEventType(stored.type) || stored.schemaVersion !== LEDGER_EVENT_SCHEMA_VERSION) throw new UnreadableLedgerEvent(stored);
  const event = { type: stored.type, data: stored.data, eventId: stored.eventId, revision: stored.revision } as unknown as RecordedLedgerEvent;
  return {
    ...event,
    chain: {
      streamName: stored.streamName,
      position: stored.position.toString(),
      hash: stored.hash,
      previousHash: stored.previousHash,
      storedAt: stored.recordedAt as Instant,
    },
  };
}

/**
 * Every removal of the subject's record by the proof-retention job, oldest first: what tells a
 * removed record from one that never existed. Found in the store's record of its stream's removals
 * (one indexed lookup), where the job keeps the run's details with each removal.
 */
export async function recordRemovalsOf(store: EventStore, subjectId: string): Promise<RecordRemoval[]> {
  const recorded = await store.readRemovals(ledgerStreamOf(subjectId));
  const removals = recorded.map((record) => recordRemovalOf(record.removedAt as Instant, record.details));
  const told = removals.filter((removal): removal is RecordRemoval => removal !== undefined && removal !== 'unknown');
  if (!removals.includes('unknown')) return told;
  // A run stopped part-way is in no run's record until the next real run makes one: its removals,
  // which carry their details, are told from those, after the runs' (it was the last run).
  const fromRuns = await removalsFromRunsOf(store, subjectId);
  return [...fromRuns, ...told.filter((removal) => !fromRuns.some((run) => run.runId === removal.runId))];
}

/**
 * Removals the job made before it kept its details with them are told only by its runs, so a
 * subject with one of those is answered from every run, as before, at the cost of reading them all.
 */
async function removalsFromRunsOf(store: EventStore, subjectId: string): Promise<RecordRemoval[]> {
  const runs = await store.readStream(PROOF_RETENTION_RUNS_STREAM);
  return removalsOf(
    runs.map((stored) => ({ type: stored.type, data: stored.data }) as unknown as ProofRetentionRun),
    subjectId,
  );
}

/** The store's `IntegrityBreak`, its global position in decimal as every answer gives positions (JSON has no 64-bit integers). */
export type ExportedIntegrityBreak = Omit<IntegrityBreak, 'position'> & { readonly position?: string };

/** The subject's hash chain as checked when an answer was read from it. */
export interface SubjectIntegrity {
  readonly streamName: string;
  readonly intact: boolean;
  readonly eventsChecked: number;
  readonly firstBreak?: ExportedIntegrityBreak;
}

/**
 * Checks the subject's hash chain, for the answers an auditor reads as proof (export, history,
 * timeline): an answer read from altered events must say so, as the CLI's does on stderr.
 */
export async function subjectIntegrityOf(store: EventStore, streamName: string): Promise<SubjectIntegrity> {
  const report = await store.verify({ streamName });
  return {
    streamName,
    intact: report.intact,
    eventsChecked: report.eventsChecked,
    ...(report.firstBreak && { firstBreak: exportedBreakOf(report.firstBreak) }),
  };
}

function exportedBreakOf({ position, ...where }: IntegrityBreak): ExportedIntegrityBreak {
  return { ...where, ...(position !== undefined && { position: position.toString() }) };
}

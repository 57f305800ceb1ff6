import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { RecordRemoval } from '@consent-ledger/domain';
import { ledgerStreamOf } from '@consent-ledger/ledger-commands';
import { LedgerStorage } from '../ledger/ledger-storage';
import { recordRemovalsOf, type SubjectIntegrity, subjectIntegrityOf } from '../subject-export/subject-record';

/** One event as an auditor sees it: the fact with its evidence, where it sits in the log, and its chain hashes. */
export interface HistoryEntry {
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly revision: number;
  /** Global log position, decimal. */
  readonly position: string;
  /** When the store made the event durable. */
  readonly storedAt: string;
  readonly hash: string;
  readonly previousHash: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
}

export interface SubjectHistoryAnswer {
  readonly subjectId: string;
  readonly events: readonly HistoryEntry[];
  /**
   * Present once the proof-retention job removed a record of the subject, oldest first: an empty
   * `events` then means removed, not never recorded (a subject who came back has events again).
   */
  readonly removals?: readonly RecordRemoval[];
  /** The stream's hash chain checked as it was read: `intact: false` and where it breaks once someone edited the log. */
  readonly integrity: SubjectIntegrity;
}

export class SubjectHistory extends Query<SubjectHistoryAnswer> {
  constructor(readonly subjectId: string) {
    super();
  }
}

@QueryHandler(SubjectHistory)
export class SubjectHistoryHandler implements IQueryHandler<SubjectHistory> {
  constructor(private readonly storage: LedgerStorage) {}

  async execute({ subjectId }: SubjectHistory): Promise<SubjectHistoryAnswer> {
    const streamName = ledgerStreamOf(subjectId);
    const stored = await this.storage.eventStore.readStream(streamName);
    const removals = await recordRemovalsOf(this.storage.eventStore, subjectId);
    return {
      subjectId,
      events: stored.map((event) => ({
        eventId: event.eventId,
        type: event.type,
        schemaVersion: event.schemaVersion,
        revision: event.revision,
        position: event.position.toString(),
        storedAt: event.recordedAt,
        hash: event.hash,
        previousHash: event.previousHash,
        data: event.data,
        metadata: event.metadata,
      })),
      ...(removals.length > 0 && { removals }),
      integrity: await subjectIntegrityOf(this.storage.eventStore, streamName),
    };
  }
}

import type { Instant } from '../vocabulary';

/**
 * The proof-retention job keeps its own record: each run is one event in the stream
 * `proof-retention-runs`, saying which subjects' records it removed (pseudonymous ids only) and
 * when their proof retention had ended, so the removal is itself provable.
 */
export const PROOF_RETENTION_RUNS_STREAM = 'proof-retention-runs';
export const PROOF_RETENTION_RUN_SCHEMA_VERSION = 1;

export interface RemovedRecord {
  readonly subjectId: string;
  /** When the subject's proof retention ended (see `proofRetentionOf`). */
  readonly removableFrom: Instant;
  readonly eventsRemoved: number;
}

export interface RetentionFailure {
  readonly subjectId: string;
  readonly reason: string;
}

/** One run of the proof-retention job: subjects looked at, records removed and keys destroyed, failures left for the next run. */
export type ProofRetentionRunCompleted = Readonly<{
  type: 'ProofRetentionRunCompleted';
  data: Readonly<{
    runId: string;
    startedAt: Instant;
    finishedAt: Instant;
    /** The catalogue whose retention rules were applied. */
    catalogueVersion: string;
    /** A dry run decides and reports, and removes nothing. */
    dryRun: boolean;
    subjectsChecked: number;
    removed: readonly RemovedRecord[];
    failures: readonly RetentionFailure[];
  }>;
}>;

/**
 * Where a run records, before its first removal, which records it is about to remove: a run
 * stopped part-way (the store gone, the process killed) records nothing of its own, and the next
 * real run finds here what it may have removed, asks the store which of those it did, and records
 * them (`ProofRetentionRunInterrupted`). Kept apart from the runs, whose list auditors page through.
 */
export const PROOF_RETENTION_REMOVALS_STREAM = 'proof-retention-removals';

/** A record a run is about to remove. */
export interface DecidedRemoval extends RemovedRecord {
  /**
   * The subject was erased: the key store goes on refusing it new keys until the run forgets it,
   * after its record is gone. Absent in the decisions of the first version that recorded them; the
   * next run does not rely on it (`mayForgetDestroyedKeyOf` asks the key store and the log instead).
   */
  readonly erased?: true;
}

/** A real run judged these records removable and goes on to remove them; its own record, or a later run's record of it, says which it did. */
export type ProofRetentionRemovalsDecided = Readonly<{
  type: 'ProofRetentionRemovalsDecided';
  data: Readonly<{
    runId: string;
    startedAt: Instant;
    catalogueVersion: string;
    due: readonly DecidedRemoval[];
  }>;
}>;

/**
 * A run that stopped part-way, recorded by the next real run from the store's own records of the
 * removals it made (`removed`): the run's own record was never written. Its failures and the
 * subjects it checked are lost with it; the records it kept are judged again by the later run.
 */
export type ProofRetentionRunInterrupted = Readonly<{
  type: 'ProofRetentionRunInterrupted';
  data: Readonly<{
    runId: string;
    startedAt: Instant;
    catalogueVersion: string;
    interrupted: true;
    removed: readonly RemovedRecord[];
    /** When and by which run the stopped run was found and recorded. */
    recordedAt: Instant;
    recordedBy: string;
  }>;
}>;

/** What the stream `proof-retention-runs` holds: each run, completed or stopped part-way. */
export type ProofRetentionRun = ProofRetentionRunCompleted | ProofRetentionRunInterrupted;

/**
 * The record of a run stopped part-way after deciding `decided`: the records it removed are those
 * whose removals the store names it in (`removalsOfSubject`, from the removal records of each subject's
 * stream), as the store recorded them.
 */
export function interruptedRunOf(
  decided: ProofRetentionRemovalsDecided,
  removalsOfSubject: (subjectId: string) => readonly RecordRemoval[],
  recordedBy: { readonly runId: string; readonly at: Instant },
): ProofRetentionRunInterrupted {
  const { runId, startedAt, catalogueVersion, due } = decided.data;
  const removed = due.flatMap(({ subjectId }) =>
    removalsOfSubject(subjectId)
      .filter((removal) => removal.runId === runId)
      .map(({ removableFrom, eventsRemoved }): RemovedRecord => ({ subjectId, removableFrom, eventsRemoved })),
  );
  return {
    type: 'ProofRetentionRunInterrupted',
    data: { runId, startedAt, catalogueVersion, interrupted: true, removed, recordedAt: recordedBy.at, recordedBy: recordedBy.runId },
  };
}

/**
 * Whether the key store may forget the destroyed key of a subject whose record a run stopped
 * part-way removed (`ProofRetentionRunInterrupted.removed`), the subject's events now given: the
 * erasure that destroyed it went with the record, and the run stopped before the key store forgot
 * it, which refused the id new keys for good (a person given the id later could leave no contact
 * details). Not once the id is erased again (a person given it since, erased in turn): that erasure
 * refuses it keys. A key the id holds now is never the erasure's: the key store keeps it anyway.
 */
export const mayForgetDestroyedKeyOf = (eventsNow: readonly { readonly type: string }[]): boolean => !eventsNow.some((event) => event.type === 'SubjectErased');

/** Whether the runs hold the record of run `runId`, its own or a later run's of it. */
export const isRunRecorded = (runs: readonly ProofRetentionRun[], runId: string): boolean => runs.some((run) => run.data.runId === runId);

/** One removal of a subject's record, as the subject's export reports it. */
export interface RecordRemoval {
  readonly runId: string;
  /** When the run removed the record (the run's start, the removal's recorded time). */
  readonly removedAt: Instant;
  readonly removableFrom: Instant;
  readonly eventsRemoved: number;
}

/** Every removal of the subject's record the job recorded, in run order; a dry run removed nothing. */
export const removalsOf = (runs: readonly ProofRetentionRun[], subjectId: string): RecordRemoval[] =>
  runs
    .filter((run) => run.type === 'ProofRetentionRunInterrupted' || !run.data.dryRun)
    .flatMap(({ data: run }) =>
      run.removed
        .filter((removed) => removed.subjectId === subjectId)
        .map(({ removableFrom, eventsRemoved }) => ({ runId: run.runId, removedAt: run.startedAt, removableFrom, eventsRemoved })),
    );

/**
 * What the job hands the event store with each removal, kept in the store's own (hash-chained)
 * record of it: a subject's removals are then one lookup of its stream's removal records, not a
 * read of every run ever recorded.
 */
export type ProofRetentionRemovalDetails = Readonly<{
  removedBy: 'proof-retention';
  runId: string;
  removableFrom: Instant;
  eventsRemoved: number;
}>;

export const removalDetailsOf = (runId: string, removed: RemovedRecord): ProofRetentionRemovalDetails => ({
  removedBy: 'proof-retention',
  runId,
  removableFrom: removed.removableFrom,
  eventsRemoved: removed.eventsRemoved,
});

/**
 * One removal as the export reports it, from the store's record of it. `unknown`: the record has no
 * details, as those the job made before it kept them (2026-11-29); only the runs tell of those.
 * `undefined`: removed by someone else than this job.
 */
export function recordRemovalOf(removedAt: Instant, details: Readonly<Record<string, unknown>> | undefined): RecordRemoval | 'unknown' | undefined {
  if (details === undefined) return 'unknown';
  if (details.removedBy !== 'proof-retention') return undefined;
  const { runId, removableFrom, eventsRemoved } = details as unknown as ProofRetentionRemovalDetails;
  return { runId, removedAt, removableFrom, eventsRemoved };
}

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

/** One removal of a subject's record, as the subject's export reports it. */
export interface RecordRemoval {
  readonly runId: string;
  /** When the run removed the record (the run's start, the removal's recorded time). */
  readonly removedAt: Instant;
  readonly removableFrom: Instant;
  readonly eventsRemoved: number;
}

/** Every removal of the subject's record the job recorded, in run order; a dry run removed nothing. */
export const removalsOf = (runs: readonly ProofRetentionRunCompleted[], subjectId: string): RecordRemoval[] =>
  runs
    .filter((run) => !run.data.dryRun)
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

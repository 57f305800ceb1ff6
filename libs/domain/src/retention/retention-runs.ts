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

import { randomUUID } from 'node:crypto';
import {
  type Catalogue,
  type Instant,
  interruptedRunOf,
  isRunRecorded,
  mayForgetDestroyedKeyOf,
  PROOF_RETENTION_REMOVALS_STREAM,
  PROOF_RETENTION_RUN_SCHEMA_VERSION,
  PROOF_RETENTION_RUNS_STREAM,
  type ProofRetentionRemovalsDecided,
  type ProofRetentionRun,
  type ProofRetentionRunCompleted,
  proofRetentionOf,
  type RecordRemoval,
  recordRemovalOf,
  removalDetailsOf,
  type RemovedRecord,
  type RetentionFailure,
  type RightsRequest,
  rightsRequestHoldsOf,
} from '@consent-ledger/domain';
import { type EventStore, type GlobalPosition, type HeldLock, isLockTimeout, type NewEvent, StreamRevisionConflict, type StoredEvent, streamNamePages } from '@consent-ledger/event-store';
import { errorAndCauses, isStorageUnavailable, ledgerStreamOf, nameBasedUuid } from '@consent-ledger/ledger-commands';
import type { PersonalDataVault } from '@consent-ledger/personal-data';
import { readSubjectRecord } from '../subject-export/subject-record';
import { repeatWhenDue } from './repeat-when-due';
import type { RightsRequests } from './rights-requests';

const SUBJECT_STREAM_PREFIX = ledgerStreamOf('');
const DESTROY_BATCH = 100;
/** Subject streams listed at a time: a run holds one page of names, not every subject's. */
const SUBJECTS_PER_PAGE = 1000;

/**
 * How long after a start the schedule first looks whether a run is due, so that a run overdue
 * (the last one recorded longer than an interval ago, or none) does not slow the start-up down.
 */
export const FIRST_LOOK_AFTER_START_MS = 60_000;

export interface ProofRetentionJobParts {
  readonly store: EventStore;
  readonly vault: PersonalDataVault;
  readonly catalogue: Catalogue;
  readonly clock: { now(): Instant };
  /** Every rights request as the log holds it when asked: an open one holds its subject's record. */
  readonly rightsRequests: Pick<RightsRequests, 'all'>;
  /** Told of each removed subject, so a cache of streams in this process does not keep answering from it. */
  readonly removed?: (subjectId: string) => void;
}

/**
 * Removes the records whose proof retention has ended (rule: `proofRetentionOf`, ADR 0006; an
 * open rights request about the subject is one of its holds): the subject's key is destroyed
 * first, so a failure half-way never leaves readable personal data behind, then its stream is
 * removed with `removeStream` (a sanctioned removal `verify` accepts), the vault forgets the
 * subject, and the run is recorded in `proof-retention-runs`. A real run first records which
 * records it is about to remove (`proof-retention-removals`), so that one stopped part-way is
 * recorded by the next real run, from the store's own records of the removals it made.
 */
export class ProofRetentionJob {
  private stopRepeating?: () => void;
  /** Set by `stop`: a look or a scheduled run that has not begun yet makes no run after it. */
  private isStopped = false;
  /** The schedule's look at the last run, made outside any turn: a stop waits for it. */
  private looking?: Promise<unknown>;
  /**
   * The run under way and those waiting for it, at most one of each kind: runs never overlap. A
   * scheduled run (`when-due`) is a kind of its own, since it may find a run recorded within its
   * interval and make none: a real run asked for is never answered with that.
   */
  private readonly runs: Array<{ readonly kind: 'dry' | 'real' | 'when-due'; readonly result: Promise<ProofRetentionRunCompleted | undefined> }> = [];

  constructor(private readonly parts: ProofRetentionJobParts) {}

  /**
   * One run. A call while a run of the same kind (dry or real) is under way or waiting gets that
   * run's result; a call of the other kind is never answered with it (a real run asked for must
   * remove what is due, a dry run must remove nothing): its own run starts once the one under way
   * has finished.
   */
  run(options: { dryRun?: boolean } = {}): Promise<ProofRetentionRunCompleted> {
    const dryRun = options.dryRun === true;
    return this.inTurn(dryRun ? 'dry' : 'real', (lock) => this.runOnce(dryRun, lock)) as Promise<ProofRetentionRunCompleted>;
  }

  /**
   * Runs one interval after the last run recorded on the store, by this process or any other (an
   * API process, the auditor CLI from cron), and looks first `firstLookAfterMs` after this call.
   * Found in review: the first run came one interval after the process started, so a process
   * restarted more often (daily deployments, rolling restarts) never ran it, and records past
   * their retention were kept for ever; and every process's schedule added a run of its own.
   * Failures are reported to `onError`, never thrown out of the timer; the next look is then one
   * interval later.
   */
  start(everyMs: number, onError: (error: unknown) => void = () => undefined, firstLookAfterMs = FIRST_LOOK_AFTER_START_MS): void {
    this.stopRepeating?.();
    this.isStopped = false;
    const now = () => Date.parse(this.parts.clock.now());
    this.stopRepeating = repeatWhenDue(
      now() + firstLookAfterMs,
      async () => {
        try {
          const last = await this.runWhenDue(everyMs);
          if (last === undefined) return now() + everyMs;
          // A run recorded by a clock running ahead (another host's) never puts the next off by more than an interval.
          return Math.min(Date.parse(last.data.finishedAt) + everyMs, now() + everyMs);
        } catch (error) {
          onError(error);
          return now() + everyMs;
        }
      },
      now,
    );
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    this.stopRepeating?.();
    this.stopRepeating = undefined;
    await Promise.all([this.looking, ...this.runs.map((each) => each.result.catch(() => undefined))]);
  }

  /**
   * A real run, unless one was recorded within the last `everyMs` (by any process): then that one,
   * whose end says when the next is due; none once the job is stopped. Judged again once this
   * process holds the turn, so processes whose schedules fall due together make one run, not one
   * each back to back.
   */
  private async runWhenDue(everyMs: number): Promise<ProofRetentionRunCompleted | undefined> {
    // A run finished more than an interval ahead of this clock was recorded by a clock set wrong
    // (another host's): believed, it would count as recent at every look until this clock caught
    // up, and no process ran for that long (found in review, a year ahead). One not so far ahead
    // puts the next run off by an interval at most.
    const recentRun = async () => {
      const last = await lastRealRun(this.parts.store);
      if (last === undefined) return undefined;
      return Math.abs(Date.parse(last.data.finishedAt) - Date.parse(this.parts.clock.now())) < everyMs ? last : undefined;
    };
    // The look after a start mostly finds a recent run: it need not wait for a run under way elsewhere, nor hold up a shutdown.
    // Found in review: a stop did not wait for this look either, which, answered after it, began a
    // run while the process closed its store and key store.
    const look = recentRun();
    this.looking = look.catch(() => undefined);
    const recent = await look;
    if (recent !== undefined || this.isStopped) return recent;
    return this.inTurn('when-due', async (lock) => (this.isStopped ? undefined : ((await recentRun()) ?? this.runOnce(false, lock))));
  }

  private inTurn(
    kind: 'dry' | 'real' | 'when-due',
    work: (lock: HeldLock) => Promise<ProofRetentionRunCompleted | undefined>,
  ): Promise<ProofRetentionRunCompleted | undefined> {
    const sameKind = this.runs.find((each) => each.kind === kind);
    if (sameKind) return sameKind.result;
    const previous = this.runs.at(-1)?.result.catch(() => undefined);
    // Gone from `runs` before its caller hears the result, so a call made then starts a new run.
    const result: Promise<ProofRetentionRunCompleted | undefined> = (previous ?? Promise.resolve())
      .then(() => this.inTurnWithOtherProcesses(work))
      .finally(() => this.runs.splice(this.runs.findIndex((each) => each.result === result), 1));
    this.runs.push({ kind, result });
    return result;
  }

  /**
   * Runs in other processes on the same store (a second API process asked through the load
   * balancer, the audit CLI from cron) take turns with this one's, where the store can hold them
   * back. Found in review: two processes' runs at once both judged a subject removable, both
   * reported removing it, and the later one's destroy and forget reached the subject's key after
   * the earlier one had removed the record, so a subject back meanwhile lost its new key.
   */
  private inTurnWithOtherProcesses<T>(work: (lock: HeldLock) => Promise<T>): Promise<T> {
    const { store } = this.parts;
    return store.exclusively ? store.exclusively(PROOF_RETENTION_RUNS_STREAM, work) : work(ALONE);
  }

  private async runOnce(dryRun: boolean, lock: HeldLock): Promise<ProofRetentionRunCompleted> {
    const { store, vault, catalogue, clock, rightsRequests } = this.parts;
    const startedAt = clock.now();
    // Known from the start: each removal's record in the store names the run that made it.
    const runId = randomUUID();
    // Before any removal of its own: a subject removed by a run that stopped part-way is then in
    // the log by the time this run records anything, whatever becomes of this run.
    const failures: RetentionFailure[] = dryRun ? [] : await this.recordRunsStoppedPartWay({ runId, at: clock.now() }, lock);
    let requests = requestsBySubject(await rightsRequests.all());
    const removed: RemovedRecord[] = [];
    let subjectsChecked = 0;
    let due: Array<{ subjectId: string; streamName: string; removableFrom: Instant; events: number; lastRevision: number; isErased: boolean }> = [];
    for await (const subjectId of subjectsInStore(store)) {
      subjectsChecked += 1;
      try {
        const record = await readSubjectRecord(store, subjectId);
        if (record.history.length === 0) {
          // Removed by another process since it was listed: nothing was left to judge.
          subjectsChecked -= 1;
          continue;
        }
        const retention = proofRetentionOf(record.history, catalogue, startedAt, requests.get(subjectId) ?? []);
        if (retention.isRemovable) {
          const lastRevision = record.history[record.history.length - 1].revision;
          const isErased = record.history.some((event) => event.type === 'SubjectErased');
          due.push({ subjectId, streamName: record.streamName, removableFrom: retention.removableFrom!, events: record.history.length, lastRevision, isErased });
        }
      } catch (error) {
        stopIfUnavailable(error);
        failures.push({ subjectId, reason: messageOf(error) });
      }
    }
    // Judging reads one stream at a time (minutes on a large store): a request received meanwhile
    // still holds its subject. One received after this look is not seen by this run.
    requests = requestsBySubject(await rightsRequests.all());
    due = due.filter((each) => rightsRequestHoldsOf(requests.get(each.subjectId) ?? []).length === 0);
    if (!dryRun && due.length > 0) {
      const decided: ProofRetentionRemovalsDecided = {
        type: 'ProofRetentionRemovalsDecided',
        data: {
          runId,
          startedAt,
          catalogueVersion: catalogue.definition.catalogueVersion,
          due: due.map(({ subjectId, removableFrom, events, isErased }) => ({ subjectId, removableFrom, eventsRemoved: events, ...(isErased && { erased: true as const }) })),
        },
      };
      lock.assertHeld();
      await store.append(PROOF_RETENTION_REMOVALS_STREAM, [newEventOf(randomUUID(), decided)], { expectedRevision: 'any' });
    }
    // Keys of a batch are destroyed together (the PostgreSQL key store rewrites its table once per
    // batch), and always before their streams go. The vault goes on refusing an erased subject new
    // keys until its stream, with the erasure in it, is gone.
    for (let start = 0; start < due.length; start += DESTROY_BATCH) {
      const batch = due.slice(start, start + DESTROY_BATCH);
      // Each step only while no other run can be under way: one that took the lock meanwhile would
      // judge, record and remove beside this one (and record this one as stopped).
      lock.assertHeld();
      const destroyed = dryRun
        ? batch.map(() => ({ status: 'fulfilled' as const }))
        : await Promise.allSettled(batch.map((each) => (each.isErased ? vault.destroyKey(each.subjectId) : vault.forgetSubject(each.subjectId))));
      for (const outcome of destroyed) if (outcome.status === 'rejected') stopIfUnavailable(outcome.reason);
      for (const [index, each] of batch.entries()) {
        const outcome = destroyed[index];
        if (outcome.status === 'rejected') {
          failures.push({ subjectId: each.subjectId, reason: `key not destroyed: ${messageOf(outcome.reason)}` });
          continue;
        }
        const record: RemovedRecord = { subjectId: each.subjectId, removableFrom: each.removableFrom, eventsRemoved: each.events };
        lock.assertHeld();
        try {
          if (!dryRun) {
            // Only the history judged above: a choice recorded since keeps the stream (the next run judges it again).
            await store.removeStream(each.streamName, {
              reason: `proof retention ended on ${each.removableFrom} (catalogue ${catalogue.definition.catalogueVersion})`,
              removedAt: startedAt,
              expectedRevision: each.lastRevision,
              details: removalDetailsOf(runId, record),
            });
            this.parts.removed?.(each.subjectId);
          }
          removed.push(record);
        } catch (error) {
          stopIfUnavailable(error);
          const reason =
            error instanceof StreamRevisionConflict
              ? 'kept: a choice was recorded while this run decided on it (what was sealed before is erased)'
              : `key destroyed, stream not removed: ${messageOf(error)}`;
          failures.push({ subjectId: each.subjectId, reason });
          continue;
        }
        // The erasure went with the stream: a subject who comes back is a new one, whose personal data may be kept again.
        if (each.isErased && !dryRun) {
          await vault
            .forgetSubject(each.subjectId)
            .catch((error: unknown) => {
              stopIfUnavailable(error);
              failures.push({ subjectId: each.subjectId, reason: `removed, but the vault still refuses it new keys: ${messageOf(error)}` });
            });
        }
      }
    }
    const run: ProofRetentionRunCompleted = {
      type: 'ProofRetentionRunCompleted',
      data: {
        runId,
        startedAt,
        finishedAt: clock.now(),
        catalogueVersion: catalogue.definition.catalogueVersion,
        dryRun,
        subjectsChecked,
        removed,
        failures,
      },
    };
    lock.assertHeld();
    await store.append(PROOF_RETENTION_RUNS_STREAM, [newEventOf(run.data.runId, run)], { expectedRevision: 'any' });
    return run;
  }

  /**
   * Records each run that decided on removals and recorded neither itself nor was recorded by a
   * later run: stopped part-way, its removals were in the store's records alone, so consumers of
   * the topics were never told to forget those subjects (found in review). Runs take turns and each
   * real run does this before its own removals, so only the last runs to decide can be unrecorded:
   * the look goes back from the newest decision to the first one whose run is recorded. The key
   * store forgets the subjects it removed as that run would have: the failures, for this run's record.
   */
  private async recordRunsStoppedPartWay(recordedBy: { readonly runId: string; readonly at: Instant }, lock: HeldLock): Promise<RetentionFailure[]> {
    const { store } = this.parts;
    const failures: RetentionFailure[] = [];
    const recordedRuns = new RecordedRunsNewestFirst(store);
    const stopped: ProofRetentionRemovalsDecided[] = [];
    for await (const decided of newestFirst(store, PROOF_RETENTION_REMOVALS_STREAM)) {
      const decision = { type: 'ProofRetentionRemovalsDecided', data: decided.data } as unknown as ProofRetentionRemovalsDecided;
      if (isRunRecorded(await recordedRuns.downTo(decided.position), decision.data.runId)) break;
      stopped.unshift(decision);
    }
    for (const decided of stopped) {
      const removals = new Map<string, RecordRemoval[]>();
      for (const { subjectId } of decided.data.due) removals.set(subjectId, await removalsByThisJobOf(store, subjectId));
      const record = interruptedRunOf(decided, (subjectId) => removals.get(subjectId) ?? [], recordedBy);
      lock.assertHeld();
      // Before the record: once it is written, no later run looks at this run again.
      for (const { subjectId } of record.data.removed) {
        await this.forgetDestroyedKeyOfRemoved(subjectId).catch((error: unknown) => {
          stopIfUnavailable(error);
          failures.push({ subjectId, reason: `removed by run ${record.data.runId}, stopped part-way, but the vault still refuses it new keys: ${messageOf(error)}` });
        });
      }
      // Named by the stopped run: recorded twice (an answer lost, or by another process), it is stored once.
      const eventId = nameBasedUuid(['proof-retention-run-interrupted', record.data.runId]);
      await store.append(PROOF_RETENTION_RUNS_STREAM, [newEventOf(eventId, record)], { expectedRevision: 'any' });
    }
    return failures;
  }

  /**
   * What a run stopped part-way left undone for a subject whose record it removed: an erased
   * subject's key store kept the record of the destroyed key, refusing the id new keys for good, so
   * a person given the id later (channel systems reuse ids) could leave no contact details (found
   * in review). A key the id holds now, the subject back since, is kept by the key store itself:
   * it was made after the record of the destroyed key was gone, whether its first command sealed
   * before its first event was appended or not. The id's events are read before the forget, so the
   * erasure of a person given the id since keeps its record, and after: one recorded meanwhile may
   * have destroyed the key before the forget, so it is destroyed again; one recorded later
   * destroys it after the forget itself.
   */
  private async forgetDestroyedKeyOfRemoved(subjectId: string): Promise<void> {
    const { store, vault } = this.parts;
    const eventsNow = () => store.readStream(ledgerStreamOf(subjectId));
    if (!mayForgetDestroyedKeyOf(await eventsNow())) return;
    if (!(await vault.forgetDestroyedKey(subjectId))) return;
    if (!mayForgetDestroyedKeyOf(await eventsNow())) await vault.destroyKey(subjectId);
  }
}

/** For a store that cannot keep other processes out (`exclusively` absent): this process's runs take turns, and nothing can be lost. */
const ALONE: HeldLock = { assertHeld: () => undefined };

function newEventOf(eventId: string, event: ProofRetentionRun | ProofRetentionRemovalsDecided): NewEvent {
  return { eventId, type: event.type, schemaVersion: PROOF_RETENTION_RUN_SCHEMA_VERSION, data: event.data as unknown as Record<string, unknown> };
}

/** The removals of the subject's stream the store records as this job's, with the details the job kept with each. */
async function removalsByThisJobOf(store: EventStore, subjectId: string): Promise<RecordRemoval[]> {
  const records = await store.readRemovals(ledgerStreamOf(subjectId));
  return records.flatMap((record) => {
    const removal = recordRemovalOf(record.removedAt as Instant, record.details);
    return removal === undefined || removal === 'unknown' ? [] : [removal];
  });
}

/**
 * A stream's events, newest first, one at a time as the caller goes: each run and each decision
 * lists its records (megabytes for a large run), and the look mostly ends at the first.
 */
async function* newestFirst(store: EventStore, streamName: string): AsyncGenerator<StoredEvent> {
  let fromRevision: number | undefined;
  for (;;) {
    const [event] = await store.readStream(streamName, { direction: 'backwards', maxCount: 1, ...(fromRevision !== undefined && { fromRevision }) });
    if (!event) return;
    yield event;
    if (event.revision === 0) return;
    fromRevision = event.revision - 1;
  }
}

/** The recorded runs, read newest first only as far back as asked. */
class RecordedRunsNewestFirst {
  private readonly read: ProofRetentionRun[] = [];
  private readonly events: AsyncGenerator<StoredEvent>;
  private oldestPosition?: GlobalPosition;
  private isExhausted = false;

  constructor(store: EventStore) {
    this.events = newestFirst(store, PROOF_RETENTION_RUNS_STREAM);
  }

  /** Every run recorded after `position` in the log (and the one before them, once read). */
  async downTo(position: GlobalPosition): Promise<readonly ProofRetentionRun[]> {
    while (!this.isExhausted && (this.oldestPosition === undefined || this.oldestPosition > position)) {
      const next = await this.events.next();
      if (next.done) {
        this.isExhausted = true;
        break;
      }
      this.oldestPosition = next.value.position;
      this.read.push({ type: next.value.type, data: next.value.data } as unknown as ProofRetentionRun);
    }
    return this.read;
  }
}

/**
 * Every subject with a stream now, in name order, listed a page at a time as the run goes: a run
 * neither reads the whole log to find them nor keeps them all in memory (10 million ids: about a
 * gigabyte in every API process, as it did until 2026-11-29). A subject whose stream is created
 * during the run is judged if its name comes after the page read last, else by the next run,
 * which is as soon as it could be removable anyway.
 */
async function* subjectsInStore(store: EventStore): AsyncGenerator<string> {
  for await (const names of streamNamePages(store, SUBJECT_STREAM_PREFIX, SUBJECTS_PER_PAGE)) {
    for (const name of names) yield name.slice(SUBJECT_STREAM_PREFIX.length);
  }
}

/**
 * The last real run recorded, newest first one at a time (each lists its removals: megabytes for
 * a large run): a dry run removed nothing, so it does not put the next real one off.
 */
async function lastRealRun(store: EventStore): Promise<ProofRetentionRunCompleted | undefined> {
  for await (const event of newestFirst(store, PROOF_RETENTION_RUNS_STREAM)) {
    const run = { type: 'ProofRetentionRunCompleted', data: event.data } as unknown as ProofRetentionRunCompleted;
    // A stopped run recorded by a later one is not a run that ended when the schedule should count from.
    if (event.type === 'ProofRetentionRunCompleted' && !run.data.dryRun) return run;
  }
  return undefined;
}

function requestsBySubject(requests: readonly RightsRequest[]): Map<string, RightsRequest[]> {
  const bySubject = new Map<string, RightsRequest[]>();
  for (const request of requests) {
    if (request.status === 'none') continue;
    const ofSubject = bySubject.get(request.subjectId);
    if (ofSubject) ofSubject.push(request);
    else bySubject.set(request.subjectId, [request]);
  }
  return bySubject;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * A store or key table that cannot be reached fails every subject after this one too, each after
 * as long as a timeout, and the run's record could not be written either: the run stops, and
 * the next one takes up what this one left (a key destroyed is found destroyed, its stream then
 * removed). Found in review: with PostgreSQL silent, the auditor's retention waited a timeout
 * per subject, for hours on a large store.
 */
function stopIfUnavailable(error: unknown): void {
  if (isStorageUnavailable(error) && !isOneSubjectsLockTimeout(error)) throw error;
}

/**
 * PostgreSQL's lock timeout (55P03, which the store reports as unavailable): another session holds
 * one subject's rows (a transaction a cut connection left open, until its idle timeout). The
 * store answers, and the other subjects are not held up: that subject is a failure of the run
 * (found in review: it stopped the run, the subjects after it kept and the run unrecorded).
 */
const isOneSubjectsLockTimeout = (error: unknown): boolean => [...errorAndCauses(error)].some(isLockTimeout);

import {
  type Catalogue,
  initialLedger,
  type Ledger,
  ledgerAsOf,
  mayProcess,
  type RecordedLedgerEvent,
} from '@consent-ledger/domain';
import type { EventStore, GlobalPosition } from '@consent-ledger/event-store';
import { CheckpointWatch, ReadModelsBehind } from './checkpoint-watch';
import { LEDGER_STREAM_PREFIX, readLedgerEvent } from './ledger-events';
import type { AudienceAnswer, AudienceQuery, ReadModels } from './read-models.port';
import type { ReadModelStorage } from './storage/read-model-storage';
import { LedgerSnapshotFormatUnknown } from './subject-ledger/ledger-snapshot';

/** The most subject ids one audience question may carry (the HTTP API's limit too). */
export const MAX_AUDIENCE_SIZE = 10_000;

export class AudienceTooLarge extends Error {
  constructor(readonly size: number) {
    super(`an audience question may name at most ${MAX_AUDIENCE_SIZE} subjects, not ${size}`);
    this.name = 'AudienceTooLarge';
  }
}

export class UnknownPurpose extends Error {
  constructor(readonly purpose: string) {
    super(`"${purpose}" is not a purpose of the catalogue`);
    this.name = 'UnknownPurpose';
  }
}

export interface ProjectedReadModelsOptions {
  readonly storage: ReadModelStorage;
  readonly catalogue: Catalogue;
  /**
   * Answers audience questions about an instant before a subject's latest choice (the snapshot
   * only knows the ledger as of now); without it such a question is refused.
   */
  readonly store?: EventStore;
  /** Default timeout of `waitFor`. */
  readonly waitTimeoutMs?: number;
  /**
   * How often a waiter reads the checkpoint again: 25 ms where other processes' moves cannot be
   * told (SQLite), 1 s where they can, covering a LISTEN connection lost and not yet reopened.
   */
  readonly recheckEveryMs?: number;
}

/**
 * The read side the API uses: checkpoint, read-your-writes waits, and audience filtering with
 * exactly `mayProcess`'s answer, evaluated on each subject's stored ledger.
 */
export class ProjectedReadModels implements ReadModels {
  readonly storage: ReadModelStorage;
  readonly catalogue: Catalogue;
  private readonly watch: CheckpointWatch;
  private stopWatching?: Promise<() => Promise<void>>;

  constructor(private readonly options: ProjectedReadModelsOptions) {
    this.storage = options.storage;
    this.catalogue = options.catalogue;
    // PostgreSQL tells every process when the checkpoint moves; a SQLite file written by another
    // process can only be read again, so waiters there poll while they wait.
    const canBeTold = options.storage.watchCheckpoint !== undefined;
    this.watch = new CheckpointWatch(() => this.storage.checkpoint(), options.recheckEveryMs ?? (canBeTold ? 1000 : 25));
  }

  async checkpoint(): Promise<GlobalPosition> {
    const position = await this.storage.checkpoint();
    // What the table says is the truth, even when it went back (another process started a rebuild).
    this.watch.observed(position);
    return position;
  }

  async waitFor(position: GlobalPosition, timeoutMs = this.options.waitTimeoutMs ?? 5000): Promise<void> {
    if (position <= this.watch.known) return;
    // The watch reads the checkpoint only once moves are heard: a move committed between that read
    // and the LISTEN would be told to nobody, and the caller would wait for a move already made.
    await this.watch.waitFor(position, timeoutMs, this.listening());
  }

  /** Called by a runner in this process after each commit: wakes waiters without a round trip. */
  checkpointMoved(position: GlobalPosition): void {
    this.watch.moved(position);
  }

  /** Called by a runner in this process after it emptied the tables for a rebuild. */
  checkpointRewound(position: GlobalPosition): void {
    this.watch.rewind(position);
  }

  /** Answered once the read models have applied the log up to `upTo` (read-your-writes: the log's head when asked). */
  async filterAudience(query: AudienceQuery, upTo: GlobalPosition = 0n): Promise<AudienceAnswer> {
    if (!this.catalogue.purposes.has(query.purpose)) throw new UnknownPurpose(query.purpose);
    const subjectIds = [...new Set(query.subjectIds)];
    if (subjectIds.length > MAX_AUDIENCE_SIZE) throw new AudienceTooLarge(subjectIds.length);

    await this.waitFor(upTo);
    const { ledgers: stored, appliedUpTo } = await this.storage.ledgers(subjectIds).catch((error: unknown) => {
      // Found in review: in a rolling upgrade this answered 500 until every process ran one version.
      if (error instanceof LedgerSnapshotFormatUnknown) throw new ReadModelsBehind(upTo, 0n, `the read models are written by another version of this service (${error.message})`);
      throw error;
    });
    if (appliedUpTo < upTo) {
      // Another process emptied the tables for a rebuild since this one last saw them: their rows
      // would deny everyone, or allow a person who objected, until the rebuild is back.
      this.watch.observed(appliedUpTo);
      throw new ReadModelsBehind(upTo, appliedUpTo);
    }
    const allowed: string[] = [];
    const denied: AudienceAnswer['denied'][number][] = [];
    for (const subjectId of subjectIds) {
      const known = stored.get(subjectId);
      // The stored ledger is the ledger as of any instant at or after the subject's latest choice;
      // an earlier instant needs the history itself (a later choice must not count yet).
      const ledger = !known ? initialLedger() : query.at >= known.lastOccurredAt ? known.ledger : await this.ledgerAsOf(subjectId, query.at);
      const decision = mayProcess(ledger, this.catalogue, query);
      if (decision.allowed) allowed.push(subjectId);
      else denied.push({ subjectId, reason: decision.reason });
    }
    return { allowed, denied };
  }

  async close(): Promise<void> {
    this.watch.close();
    const stop = await this.stopWatching?.catch(() => undefined);
    await stop?.();
  }

  /** Resolves once checkpoint moves by other processes are heard (at once where none can be). */
  private async listening(): Promise<void> {
    if (!this.storage.watchCheckpoint) return;
    const forget = () => {
      if (this.stopWatching === started) this.stopWatching = undefined;
    };
    const started = (this.stopWatching ??= this.storage.watchCheckpoint((moved) => this.watch.moved(moved), forget));
    await started.then(() => undefined, forget);
  }

  private async ledgerAsOf(subjectId: string, at: AudienceQuery['at']): Promise<Ledger> {
    if (!this.options.store) throw new Error('an audience question about an earlier instant needs the event store');
    const history = (await this.options.store.readStream(`${LEDGER_STREAM_PREFIX}${subjectId}`)).flatMap((stored) => {
      const reading = readLedgerEvent(stored);
      return reading.kind === 'ledger' ? [reading.projected.event as RecordedLedgerEvent] : [];
    });
    return ledgerAsOf(history, { at });
  }
}

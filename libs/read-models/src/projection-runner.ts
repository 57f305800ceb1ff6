import type { Catalogue, Instant } from '@consent-ledger/domain';
import type { EventStore, GlobalPosition, StoredEvent, Subscription } from '@consent-ledger/event-store';
import { type ChangeSet, planEvents, planReevaluation } from './change-set';
import type { ProjectedReadModels } from './read-models';
import { CatalogueRulesChanged, DATABASE_CLOCK } from './storage/read-model-storage';
import type { SubjectView } from './subject-ledger/subject-view';

export interface ProjectionLog {
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface StartProjectionsOptions {
  readonly readModels: ProjectedReadModels;
  readonly store: EventStore;
  /** Events per transaction at most (catching up reads pages of this size). */
  readonly batchSize?: number;
  /** How often subjects whose decisions change on their own are looked at again; 0 turns the sweep off. */
  readonly sweepEveryMs?: number;
  /** Subjects the sweep re-evaluates per transaction (500). */
  readonly sweepPageSize?: number;
  /**
   * Told after each commit: what the transaction changed (the Kafka publisher listens), and, for
   * a batch of the log, the batch itself (a sweep has none).
   */
  readonly onCommitted?: (changes: ChangeSet, batch?: AppliedBatch) => void;
  readonly log?: ProjectionLog;
}

/**
 * A batch of the log the read models applied: every event after `after` up to the last one of
 * `events`, with none left out (one subscription delivered them in order), so whoever keeps
 * consecutive batches holds a stretch of the log without reading it again.
 */
export interface AppliedBatch {
  readonly after: GlobalPosition;
  readonly events: readonly StoredEvent[];
}

export interface Projections {
  /** Resolves when the read models have applied the log up to its head at the time of the call. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /**
   * Re-evaluates every subject whose decisions changed because time passed: by `now` (tests pass
   * one), or by the database's clock, read again for each page.
   */
  sweep(now?: Instant): Promise<number>;
  /** Empties the read models and replays the log from position 0; resolves when caught up again. */
  rebuild(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

class ReadModelsRewound extends Error {
  constructor(readonly checkpoint: GlobalPosition) {
    super(`the read models went back to position ${checkpoint}`);
  }
}

const SWEEP_PAGE = 500;
const RETRY_MS = 1000;

/**
 * Follows the global log from the read models' checkpoint and applies it in batches: each batch is
 * one transaction with the checkpoint, so a crash anywhere replays from the last commit and a
 * redelivered event changes nothing. A failed transaction (database down) drops the subscription
 * and resubscribes from the stored checkpoint, so no event is skipped.
 */
export function startProjections(options: StartProjectionsOptions): Projections {
  const { readModels, store } = options;
  const catalogue: Catalogue = readModels.catalogue;
  const batchSize = options.batchSize ?? 500;
  const log = options.log ?? { warn: (message) => console.warn(message), error: (message, error) => console.error(message, error) };

  let buffer: StoredEvent[] = [];
  // Where this subscription's next batch starts: it delivers every event after it.
  let batchesAfter: GlobalPosition = 0n;
  // Every write (batches and sweeps) goes through this chain: one transaction at a time per process.
  let writes: Promise<unknown> = Promise.resolve();
  let subscription: Subscription | undefined;
  let generation = 0;
  let isStopped = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const result = writes.then(work, work);
    writes = result.catch(() => undefined);
    return result;
  };

  const committed = (changes: ChangeSet, batch: AppliedBatch) => {
    for (const reason of changes.unreadable) log.warn(`read models passed over an event they cannot read: ${reason}`);
    readModels.checkpointMoved(changes.checkpoint);
    options.onCommitted?.(changes, batch);
  };

  const flush = (ofGeneration: number): Promise<void> =>
    serially(async () => {
      if (ofGeneration !== generation || buffer.length === 0) return;
      const batch = buffer;
      buffer = [];
      const after = batchesAfter;
      batchesAfter = batch[batch.length - 1].position;
      try {
        const plan = (checkpoint: GlobalPosition, views: ReadonlyMap<string, SubjectView>) => {
          // Behind where this batch starts: another process emptied the tables to rebuild them,
          // and applying the batch would skip everything before it.
          if (checkpoint < after) throw new ReadModelsRewound(checkpoint);
          return planEvents(checkpoint, views, batch, catalogue);
        };
        committed(await readModels.storage.applyEvents(batch, plan), { after, events: batch });
      } catch (error) {
        if (error instanceof ReadModelsRewound) {
          log.warn(`the read models went back to position ${error.checkpoint} (another process is rebuilding them): following the log again from there`);
          readModels.checkpointRewound(error.checkpoint);
        } else if (error instanceof CatalogueRulesChanged) log.error(error.message);
        else log.error('read models could not apply a batch; resubscribing from the stored checkpoint', error);
        restartLater();
        throw error;
      }
    });

  const subscribe = async () => {
    const ofGeneration = ++generation;
    buffer = [];
    const after: GlobalPosition = await readModels.storage.checkpoint();
    if (isStopped || ofGeneration !== generation) return;
    batchesAfter = after;
    subscription = store.subscribeToAll({
      after,
      batchSize,
      onEvent: async (event) => {
        if (ofGeneration !== generation) return;
        buffer.push(event);
        if (buffer.length >= batchSize) await flush(ofGeneration);
      },
      onCaughtUp: () => {
        flush(ofGeneration).catch(() => undefined);
      },
    });
    subscription.done.catch((error: unknown) => {
      if (ofGeneration !== generation || isStopped) return;
      log.error('the log subscription failed; resubscribing from the stored checkpoint', error);
      restartLater();
    });
  };

  const restartLater = () => {
    if (isStopped || retryTimer) return;
    generation += 1;
    const dropped = subscription;
    subscription = undefined;
    void dropped?.close();
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      subscribe().catch((error: unknown) => {
        log.error('could not resubscribe to the log', error);
        restartLater();
      });
    }, RETRY_MS);
  };

  // Each page waits its turn with the log's batches, not the whole sweep: a campaign's consents
  // expiring in one minute are tens of thousands of subjects, and a sweep holding the chain for
  // all of them held back every command's read-your-writes and state message until it ended.
  const sweepPage = options.sweepPageSize ?? SWEEP_PAGE;
  const sweepOnce = async (at: Instant | typeof DATABASE_CLOCK) => {
    let changed = 0;
    while (!isStopped) {
      const changes = await serially(() => readModels.storage.reevaluateDue(at, sweepPage, (checkpoint, views, now) => planReevaluation(checkpoint, views, now, catalogue)));
      changed += changes.subjects.length;
      if (changes.subjects.length > 0) options.onCommitted?.(changes);
      if (changes.subjects.length < sweepPage) return changed;
      // SQLite's pages run synchronously: without a turn of the event loop between them, the log's
      // next batch could not even be delivered until the sweep ended.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return changed;
  };
  let sweeping: Promise<number> | undefined;
  const sweep = (now?: Instant): Promise<number> => {
    const running = sweepOnce(now ?? DATABASE_CLOCK).finally(() => {
      if (sweeping === running) sweeping = undefined;
    });
    sweeping = running;
    return running;
  };

  const sweepEveryMs = options.sweepEveryMs ?? 15_000;
  const sweepTimer =
    sweepEveryMs > 0
      ? setInterval(() => {
          // A sweep still going through a backlog is not started a second time alongside it.
          if (sweeping) return;
          sweep().catch((error: unknown) => log.error('the time sweep failed; it runs again at the next tick', error));
        }, sweepEveryMs)
      : undefined;

  const stopFollowing = async () => {
    generation += 1;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = undefined;
    const current = subscription;
    subscription = undefined;
    await current?.close();
    await writes;
    buffer = [];
  };

  void subscribe().catch((error: unknown) => {
    log.error('could not subscribe to the log', error);
    restartLater();
  });

  return {
    async caughtUp(timeoutMs = 30_000) {
      await readModels.waitFor(await store.headPosition(), timeoutMs);
    },
    sweep,
    async rebuild(timeoutMs = 300_000) {
      await stopFollowing();
      await serially(() => readModels.storage.reset());
      readModels.checkpointRewound(0n);
      if (isStopped) return;
      await subscribe();
      await readModels.waitFor(await store.headPosition(), timeoutMs);
    },
    async stop() {
      isStopped = true;
      if (sweepTimer) clearInterval(sweepTimer);
      await stopFollowing();
    },
  };
}

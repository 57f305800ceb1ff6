import { EventStoreUnavailable } from './errors';
import type { ReadAllOptions, StoredEvent, SubscribeToAllOptions, Subscription } from './event-store.port';

/**
 * Tells followers of the log that something may have been appended. A counter, not an event:
 * a follower remembers the count before it reads, so a notification that lands between its read
 * and its wait still wakes it.
 */
export class AppendSignal {
  private count = 0;
  private readonly waiters = new Set<() => void>();

  get current(): number {
    return this.count;
  }

  notify(): void {
    this.count += 1;
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves when the count has moved past `seen`, after `timeoutMs`, or when cancelled. */
  wait(seen: number, timeoutMs: number): { readonly promise: Promise<void>; cancel(): void } {
    if (this.count !== seen) return { promise: Promise.resolve(), cancel: () => undefined };
    let finish!: () => void;
    const promise = new Promise<void>((resolve) => {
      finish = () => {
        clearTimeout(timer);
        this.waiters.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.waiters.add(finish);
    });
    return { promise, cancel: finish };
  }
}

export interface FollowedLog {
  readAll(options: ReadAllOptions): Promise<StoredEvent[]>;
  readonly appended: AppendSignal;
  /** Upper bound on how long a caught-up follower waits before reading again. */
  readonly pollIntervalMs: number;
  /** Runs before each wait, e.g. to (re)open a LISTEN connection. */
  beforeWaiting?(): Promise<void>;
}

const DEFAULT_BATCH_SIZE = 500;

/**
 * Catch-up then live, by reading the log page after page from the subscriber's checkpoint and
 * waiting for an append signal (or the poll interval) once caught up. Works for every store whose
 * `readAll` already gives the one total order; nothing here reorders or skips.
 */
export function followLog(options: SubscribeToAllOptions, log: FollowedLog): Subscription {
  let isClosed = false;
  let cancelWait: (() => void) | undefined;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const pause = async (seen: number) => {
    const wait = log.appended.wait(seen, log.pollIntervalMs);
    cancelWait = wait.cancel;
    await wait.promise;
    cancelWait = undefined;
  };

  const run = async (): Promise<void> => {
    let checkpoint = options.after;
    while (!isClosed) {
      const seen = log.appended.current;
      let batch: StoredEvent[];
      try {
        batch = await log.readAll({ after: checkpoint, maxCount: batchSize });
      } catch (error) {
        // An unreachable store is expected to come back; anything else is a bug worth stopping for.
        if (!(error instanceof EventStoreUnavailable)) throw error;
        if (!isClosed) await pause(log.appended.current);
        continue;
      }
      for (const event of batch) {
        if (isClosed) return;
        await options.onEvent(event);
        checkpoint = event.position;
      }
      if (batch.length < batchSize && !isClosed) {
        options.onCaughtUp?.(checkpoint);
        await log.beforeWaiting?.().catch(() => undefined);
        if (!isClosed) await pause(seen);
      }
    }
  };

  const done = run();
  // The caller may never look at `done`; a failed subscription must not crash the process.
  done.catch(() => undefined);

  return {
    done,
    async close() {
      isClosed = true;
      cancelWait?.();
      await done.catch(() => undefined);
    },
  };
}

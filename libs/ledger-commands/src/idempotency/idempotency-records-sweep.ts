import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Instant } from '@consent-ledger/domain';
import type { IdempotencyRecords } from './idempotency-records.port';

/**
 * Records forgotten per step. SQLite deletes on the process's own thread, so its steps stay short
 * (about 10 ms) for requests to run in between; PostgreSQL deletes elsewhere, and a step of
 * 10,000 rows is a fraction of a second of locks.
 */
export const FORGET_BATCH_SIZE = { sqlite: 1_000, postgres: 10_000 } as const;

export interface IdempotencyRecordsSweepOptions {
  readonly records: Pick<IdempotencyRecords, 'forgetRecordedBefore'>;
  /** How long a record is kept after it was recorded (IDEMPOTENCY_RETENTION). */
  readonly retentionMs: number;
  readonly now: () => Instant;
  readonly batchSize: number;
  readonly log: { log(message: string): void; error(message: string): void };
  /** Default: an hour. */
  readonly everyMs?: number;
  /** Default: a minute, so that a process restarted more often than hourly still sweeps. */
  readonly firstAfterMs?: number;
}

/**
 * Forgets idempotency records and first-arrival claims older than the retention: once shortly
 * after `start`, then every hour, in steps until one forgets less than a full batch. A failed
 * sweep is logged and the next one tries again. `stop` waits for the step under way, so the
 * records can be closed after it. What a forgotten record changes for a retry: ADR 0004, amendment.
 */
export class IdempotencyRecordsSweep {
  private timer?: NodeJS.Timeout;
  private current?: Promise<number>;
  private isStopped = false;

  constructor(private readonly options: IdempotencyRecordsSweepOptions) {}

  start(): void {
    this.isStopped = false;
    this.scheduleNext(this.options.firstAfterMs ?? 60_000);
  }

  /** One sweep now; a call while one is under way gets that one. Says how many records it forgot. */
  sweep(): Promise<number> {
    this.current ??= this.forgetExpired().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    clearTimeout(this.timer);
    await this.current?.catch(() => undefined);
  }

  private scheduleNext(afterMs: number): void {
    this.timer = setTimeout(() => {
      void this.sweep()
        .catch((error: unknown) => this.options.log.error(`forgetting old idempotency records failed, the next sweep tries again: ${(error as Error).message}`))
        .finally(() => {
          if (!this.isStopped) this.scheduleNext(this.options.everyMs ?? 3_600_000);
        });
    }, afterMs);
    this.timer.unref();
  }

  private async forgetExpired(): Promise<number> {
    const { records, retentionMs, now, batchSize, log } = this.options;
    const before = new Date(Date.parse(now()) - retentionMs).toISOString();
    let forgotten = 0;
    for (;;) {
      const step = await records.forgetRecordedBefore(before, batchSize);
      forgotten += step;
      if (step < batchSize || this.isStopped) break;
      await nextTurn();
    }
    if (forgotten > 0) log.log(`forgot ${forgotten} idempotency records recorded before ${before}`);
    return forgotten;
  }
}

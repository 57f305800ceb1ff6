import type { Instant } from '@consent-ledger/domain';
import { IdempotencyRecordsSweep, type IdempotencyRecordsSweepOptions } from './idempotency-records-sweep';
import type { IdempotencyRecord } from './idempotency-records.port';
import { InMemoryIdempotencyRecords } from './in-memory-idempotency-records';

const DAY = 86_400_000;
const NOW = '2024-06-01T09:00:00.000Z' as Instant;
const daysBefore = (days: number) => new Date(Date.parse(NOW) - days * DAY).toISOString();

const answer = (idempotencyKey: string, recordedAt: string): IdempotencyRecord => ({
  client: 'shop-app',
  idempotencyKey,
  requestFingerprint: `fingerprint-of-${idempotencyKey}`,
  status: 201,
  body: '{}',
  recordedAt,
});

const quietLog = () => ({ log: jest.fn(), error: jest.fn() });

function sweepOf(records: IdempotencyRecordsSweepOptions['records'], options: Partial<IdempotencyRecordsSweepOptions> = {}) {
  return new IdempotencyRecordsSweep({ records, retentionMs: 30 * DAY, now: () => NOW, batchSize: 10, log: quietLog(), ...options });
}

describe('sweeping idempotency records', () => {
  it('forgets the records older than the retention and keeps the younger ones', async () => {
    const records = new InMemoryIdempotencyRecords();
    await records.save(answer('a-month-and-a-day-old', daysBefore(31)));
    await records.save(answer('a-day-short-of-a-month-old', daysBefore(29)));

    expect(await sweepOf(records).sweep()).toBe(1);

    expect(await records.claim({ ...answer('a-month-and-a-day-old', NOW), requestFingerprint: 'another request' })).toBeUndefined();
    expect(await records.claim(answer('a-day-short-of-a-month-old', NOW))).toMatchObject({ status: 201 });
  });

  it('forgets in steps of a batch until a step finds less than a full batch', async () => {
    const records = new InMemoryIdempotencyRecords();
    for (let index = 0; index < 25; index += 1) await records.save(answer(`old-${index}`, daysBefore(40)));
    const forget = jest.spyOn(records, 'forgetRecordedBefore');

    expect(await sweepOf(records).sweep()).toBe(25);
    expect(forget.mock.calls).toEqual([[daysBefore(30), 10], [daysBefore(30), 10], [daysBefore(30), 10]]);
  });

  it('says how many records it forgot, when it forgot any', async () => {
    const records = new InMemoryIdempotencyRecords();
    await records.save(answer('old', daysBefore(31)));
    const log = quietLog();
    const sweep = sweepOf(records, { log });

    await sweep.sweep();
    await sweep.sweep();

    expect(log.log.mock.calls).toEqual([[`forgot 1 idempotency records recorded before ${daysBefore(30)}`]]);
  });

  describe('on its own schedule', () => {
    // setImmediate stays real: the sweep yields to other work between its steps.
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] }));
    afterEach(() => jest.useRealTimers());

    it('sweeps shortly after start, then every period', async () => {
      const records = { forgetRecordedBefore: jest.fn(async () => 0) };
      const sweep = sweepOf(records, { firstAfterMs: 60_000, everyMs: 3_600_000 });
      sweep.start();

      await jest.advanceTimersByTimeAsync(59_999);
      expect(records.forgetRecordedBefore).toHaveBeenCalledTimes(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(records.forgetRecordedBefore).toHaveBeenCalledTimes(1);
      await jest.advanceTimersByTimeAsync(3_600_000);
      expect(records.forgetRecordedBefore).toHaveBeenCalledTimes(2);
      await sweep.stop();
    });

    it('logs a failed sweep and tries again at the next one', async () => {
      const records = { forgetRecordedBefore: jest.fn().mockRejectedValueOnce(new Error('database unavailable')).mockResolvedValue(0) };
      const log = quietLog();
      const sweep = sweepOf(records, { log, firstAfterMs: 1_000, everyMs: 3_600_000 });
      sweep.start();

      await jest.advanceTimersByTimeAsync(1_000);
      expect(log.error.mock.calls).toEqual([['forgetting old idempotency records failed, the next sweep tries again: database unavailable']]);
      await jest.advanceTimersByTimeAsync(3_600_000);
      expect(records.forgetRecordedBefore).toHaveBeenCalledTimes(2);
      await sweep.stop();
    });

    it('once stopped, finishes the step under way and sweeps no more', async () => {
      let finishStep: (forgotten: number) => void = () => undefined;
      const records = { forgetRecordedBefore: jest.fn(() => new Promise<number>((resolve) => (finishStep = resolve))) };
      const sweep = sweepOf(records, { firstAfterMs: 1_000, everyMs: 3_600_000 });
      sweep.start();
      await jest.advanceTimersByTimeAsync(1_000);

      let isStopped = false;
      const stopping = sweep.stop().then(() => (isStopped = true));
      await jest.advanceTimersByTimeAsync(0);
      expect(isStopped).toBe(false);
      finishStep(10);
      await stopping;

      await jest.advanceTimersByTimeAsync(10 * 3_600_000);
      expect(records.forgetRecordedBefore).toHaveBeenCalledTimes(1);
    });

    it('leaves no timer behind once stopped, so closing the records does not wait for the next sweep', () => {
      const sweep = sweepOf({ forgetRecordedBefore: async () => 0 });
      sweep.start();
      expect(jest.getTimerCount()).toBe(1);
      return sweep.stop().then(() => expect(jest.getTimerCount()).toBe(0));
    });
  });
});

// Shared by the event-store benchmarks; not run on its own.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { NewEvent } from '@consent-ledger/event-store';
import { percentile } from '../support/percentile';

export interface Rate {
  readonly label: string;
  readonly operations: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * Runs `concurrency` loops that each repeat `operation` until `durationMs` has passed, and reports
 * the completed operations per second with latency percentiles.
 */
export async function measureRate(
  label: string,
  options: { readonly concurrency: number; readonly durationMs: number },
  operation: (loop: number, iteration: number) => Promise<void>,
): Promise<Rate> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + options.durationMs;
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, loop) => {
      for (let iteration = 0; performance.now() < deadline; iteration += 1) {
        const before = performance.now();
        await operation(loop, iteration);
        latencies.push(performance.now() - before);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    label,
    operations: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

/** The round whose rate is the median of the rounds (the upper one of an even count). */
export function medianRate(rates: readonly Rate[]): Rate {
  return [...rates].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(rates.length / 2)];
}

export function printRate(rate: Rate): void {
  console.log(
    `${rate.label.padEnd(58)} ${format(rate.perSecond).padStart(9)} /s   p50 ${rate.p50Ms.toFixed(2).padStart(7)} ms   p99 ${rate.p99Ms
      .toFixed(2)
      .padStart(7)} ms   (${rate.operations} in ${rate.seconds.toFixed(1)} s)`,
  );
}

export function printRatio(label: string, measured: Rate, baseline: Rate): void {
  console.log(`${label.padEnd(58)} ${(measured.perSecond / baseline.perSecond).toFixed(2).padStart(9)} ×`);
}

export function format(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A consent event whose JSON data is about 500 bytes, the size the benchmarks are specified with. */
export function consentEventOfAbout500Bytes(sequence: number): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'ConsentGiven',
    schemaVersion: 1,
    data: {
      subjectId: `subject-${sequence % 100_000}`,
      purpose: 'marketing',
      channel: 'sms',
      noticeVersion: 'notice-2024-03',
      occurredAt: '2024-05-01T09:00:00.000Z',
      touchpoint: { kind: 'shop', shopId: 'berlin-2', employeeId: 'employee-17', device: 'tablet-4' },
      wording: 'I agree to receive offers by text message. I can withdraw at any time in the app or in any shop. '.repeat(3),
      sequence,
    },
    metadata: { causationId: randomUUID(), correlationId: randomUUID() },
  };
}

export function payloadBytes(event: NewEvent): number {
  return Buffer.byteLength(JSON.stringify(event.data));
}

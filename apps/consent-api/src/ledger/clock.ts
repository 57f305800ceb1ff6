import type { Instant } from '@consent-ledger/domain';

/** The edge's clock: `recordedAt`, default `occurredAt` and "now" in decisions all come from here. */
export class Clock {
  now(): Instant {
    return new Date().toISOString() as Instant;
  }
}

import { type Instant, toInstant } from '@consent-ledger/domain';

/** The edge's clock: `recordedAt`, default `occurredAt` and "now" in decisions all come from here. */
export class Clock {
  now(): Instant {
    return new Date().toISOString() as Instant;
  }

  /** The instant a question names (already validated as ISO-8601), or now when it names none. */
  instantOr(text: string | undefined): Instant {
    return text === undefined ? this.now() : (toInstant(text) as Instant);
  }
}

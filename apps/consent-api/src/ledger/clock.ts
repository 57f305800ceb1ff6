import { type Instant, toInstant } from '@consent-ledger/domain';

/** The edge's clock: `recordedAt`, default `occurredAt` and "now" in decisions all come from here. */
export class Clock {
  private lastMillis = Number.NaN;
  private lastInstant = '' as Instant;

  /**
   * Formatting a Date as ISO-8601 cost several microseconds a call in the service, a visible share
   * of a decision's CPU; under load many requests fall in the same millisecond and share one text.
   */
  now(): Instant {
    const millis = Date.now();
    if (millis !== this.lastMillis) {
      this.lastMillis = millis;
      this.lastInstant = new Date(millis).toISOString() as Instant;
    }
    return this.lastInstant;
  }

  /** The instant a question names (already validated as ISO-8601), or now when it names none. */
  instantOr(text: string | undefined): Instant {
    return text === undefined ? this.now() : (toInstant(text) as Instant);
  }
}

import type { Instant } from '@consent-ledger/domain';
import { Clock } from '../ledger/clock';

/** A clock the test moves, so that a month, or years, pass in one line. */
export class MovableClock extends Clock {
  constructor(private millis = Date.now()) {
    super();
  }

  override now(): Instant {
    return new Date(this.millis).toISOString() as Instant;
  }

  moveOn(ms: number): void {
    this.millis += ms;
  }

  moveTo(instant: string): void {
    this.millis = Date.parse(instant);
  }
}

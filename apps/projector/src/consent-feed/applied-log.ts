import type { GlobalPosition, StoredEvent } from '@consent-ledger/event-store';
import type { AppliedBatch } from '@consent-ledger/read-models';

/**
 * The stretch of the log the read models in this process just applied, kept for the feed, which
 * publishes the same events right after them: reading them back from the store cost the
 * projector its share of the database's time and of decoding rows. Only consecutive batches
 * are kept (each starts where the previous one ended), so what it answers has no gap; anything
 * else (a batch that does not follow, a stretch dropped for room, another process keeping the
 * read models) is not known here, and the feed reads the log as before.
 */
export class AppliedLog {
  private batches: AppliedBatch[] = [];
  private eventCount = 0;

  constructor(private readonly capacity = 20_000) {}

  remember(batch: AppliedBatch): void {
    if (batch.events.length === 0) return;
    const last = this.batches[this.batches.length - 1];
    if (last && batch.after !== endOf(last)) this.forget();
    this.batches.push(batch);
    this.eventCount += batch.events.length;
    while (this.eventCount > this.capacity) this.eventCount -= this.batches.shift()!.events.length;
  }

  /** The events after `from` up to `upTo`, at most `maxCount`, if every one of them is known here. */
  eventsAfter(from: GlobalPosition, upTo: GlobalPosition, maxCount: number): StoredEvent[] | undefined {
    const first = this.batches.findIndex((batch) => batch.after <= from && from < endOf(batch));
    if (first < 0) return undefined;
    const events: StoredEvent[] = [];
    for (const batch of this.batches.slice(first)) {
      for (const event of batch.events) {
        if (event.position <= from) continue;
        if (event.position > upTo || events.length === maxCount) return events;
        events.push(event);
      }
    }
    return events;
  }

  /** Forgets the batches the feed has published entirely. */
  publishedUpTo(position: GlobalPosition): void {
    while (this.batches.length > 0 && endOf(this.batches[0]) <= position) this.eventCount -= this.batches.shift()!.events.length;
  }

  private forget(): void {
    this.batches = [];
    this.eventCount = 0;
  }
}

function endOf(batch: AppliedBatch): GlobalPosition {
  return batch.events[batch.events.length - 1].position;
}

import type { StoredEvent } from '@consent-ledger/event-store';
import { AppliedLog } from './applied-log';

/** Stored events at the given positions (the log need not be dense: KurrentDB's is not). */
function batch(after: number, ...positions: number[]) {
  return { after: BigInt(after), events: positions.map((position) => ({ position: BigInt(position), eventId: `event-${position}` }) as unknown as StoredEvent) };
}

const positions = (events: readonly StoredEvent[] | undefined) => events?.map((event) => Number(event.position));

describe('the applied log the feed publishes from', () => {
  it('answers from consecutive batches, up to the read models checkpoint and the batch size', () => {
    const log = new AppliedLog();
    log.remember(batch(10, 12, 13, 15));
    log.remember(batch(15, 16, 20));

    expect(positions(log.eventsAfter(10n, 20n, 100))).toEqual([12, 13, 15, 16, 20]);
    expect(positions(log.eventsAfter(13n, 16n, 100))).toEqual([15, 16]);
    expect(positions(log.eventsAfter(12n, 20n, 2))).toEqual([13, 15]);
  });

  it('does not answer for positions it may not hold every event of', () => {
    const log = new AppliedLog();
    log.remember(batch(10, 12, 13));

    expect(log.eventsAfter(9n, 13n, 100)).toBeUndefined();
    expect(log.eventsAfter(13n, 20n, 100)).toBeUndefined();
  });

  it('forgets what came before a batch that does not follow the last one', () => {
    const log = new AppliedLog();
    log.remember(batch(10, 12, 13));
    log.remember(batch(0, 1, 2)); // the read models started again from the beginning

    expect(log.eventsAfter(10n, 13n, 100)).toBeUndefined();
    expect(positions(log.eventsAfter(0n, 13n, 100))).toEqual([1, 2]);
  });

  it('forgets batches once published, and the oldest ones beyond its capacity', () => {
    const log = new AppliedLog(4);
    log.remember(batch(0, 1, 2));
    log.remember(batch(2, 3, 4));
    log.publishedUpTo(2n);

    expect(log.eventsAfter(0n, 4n, 100)).toBeUndefined();
    expect(positions(log.eventsAfter(2n, 4n, 100))).toEqual([3, 4]);

    log.remember(batch(4, 5, 6, 7));
    expect(log.eventsAfter(2n, 7n, 100)).toBeUndefined();
    expect(positions(log.eventsAfter(4n, 7n, 100))).toEqual([5, 6, 7]);
  });
});

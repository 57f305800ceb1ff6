import type { Duration } from '../time';
import type { Instant } from '../vocabulary';
import { rightsRequestsDue } from './due-soon';
import { rightsRequestOf } from './rights-request';
import { requestExtended, requestReceived } from './testing/given-request';

const WEEK = 'P7D' as Duration;
const at = (iso: string) => new Date(iso).toISOString() as Instant;
const receivedOn = (requestId: string, receivedAt: string) => {
  const event = requestReceived({ receivedAt: at(receivedAt) });
  return { ...event, data: { ...event.data, requestId } } as typeof event;
};

describe('rights requests due soon', () => {
  const early = rightsRequestOf([receivedOn('early', '2024-03-01T10:00:00Z')]);
  const later = rightsRequestOf([receivedOn('later', '2024-03-05T10:00:00Z')]);
  const farAway = rightsRequestOf([receivedOn('far', '2024-03-20T10:00:00Z')]);

  it('lists the open requests due within the window, the most urgent first', () =>
    expect(rightsRequestsDue([farAway, later, early], at('2024-03-28T10:00:00Z'), WEEK).map((due) => [due.request.requestId, due.daysLeft, due.overdue])).toEqual([
      ['early', 3, false],
      ['later', 7, false],
    ]));

  it('keeps overdue requests at the top of the list', () =>
    expect(rightsRequestsDue([early], at('2024-04-02T10:00:00Z'), WEEK)).toEqual([expect.objectContaining({ overdue: true, daysLeft: -2 })]));

  it('uses the extended due date', () => {
    const received = receivedOn('early', '2024-03-01T10:00:00Z');
    const extended = rightsRequestOf([received, requestExtended([received], { byDays: 30 })]);
    expect(rightsRequestsDue([extended], at('2024-03-28T10:00:00Z'), WEEK)).toEqual([]);
  });
});

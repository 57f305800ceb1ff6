import {
  channelRestricted,
  channelRestrictionLifted,
  consentGiven,
  consentWithdrawn,
  given,
  instant,
  objectionRaised,
  objectionReviewed,
  objectionWithdrawn,
  relationshipEnded,
  relationshipStarted,
} from '../testing';
import type { LedgerEvent } from './events';
import { supersededBy } from './superseded-by';

const PROSPECTING = 'direct-marketing-prospects-phone-email';
const ANALYTICS = 'myproximus-app-usage-analytics';
const MONDAY = '2024-06-03T09:00:00Z';
const WEDNESDAY = '2024-06-05T09:00:00Z';
const FRIDAY = '2024-06-07T09:00:00Z';

/** What keeps the last of `events`, recorded last, from standing. */
function supersedingTheLast(...events: LedgerEvent[]) {
  const { ledger, history } = given(...events);
  return supersededBy(ledger, history[history.length - 1]);
}

describe('a choice recorded after a later one of the person', () => {
  it('is superseded by it: a consent signed on Monday, entered after a withdrawal of Wednesday', () =>
    expect(
      supersedingTheLast(
        consentWithdrawn({ purpose: PROSPECTING, occurredAt: WEDNESDAY }),
        consentGiven({ purpose: PROSPECTING, channels: ['email'], occurredAt: MONDAY }),
      ),
    ).toEqual([{ eventId: 'event-0', revision: 0 }]));

  it('is superseded in part when a later consent covers only some channels', () =>
    expect(
      supersedingTheLast(
        consentGiven({ purpose: PROSPECTING, channels: ['email'], occurredAt: MONDAY }),
        consentGiven({ purpose: PROSPECTING, channels: ['sms'], occurredAt: FRIDAY }),
        consentWithdrawn({ purpose: PROSPECTING, occurredAt: WEDNESDAY }),
      ),
    ).toEqual([{ eventId: 'event-1', revision: 1 }]));

  // Found in review: a consent of Monday without end, entered after one of Wednesday valid until
  // December, was not marked, though December is when the person's consent ends.
  it('is superseded by a later consent on its channels that runs out sooner', () => {
    const lateWithoutEnd = consentGiven({ purpose: PROSPECTING, channels: ['email'], occurredAt: MONDAY });
    const laterUntilDecember = consentGiven({ purpose: PROSPECTING, channels: ['email'], occurredAt: WEDNESDAY, expiresAt: instant('2024-12-20T00:00:00Z') });
    expect(supersedingTheLast(laterUntilDecember, lateWithoutEnd)).toEqual([{ eventId: 'event-0', revision: 0 }]);
    expect(supersedingTheLast({ ...laterUntilDecember, data: { ...laterUntilDecember.data, expiresAt: undefined } }, lateWithoutEnd)).toEqual([]);
  });

  it('is not superseded by a later choice that says the same', () =>
    expect(
      supersedingTheLast(channelRestricted({ channel: 'sms', occurredAt: FRIDAY }), channelRestricted({ channel: 'sms', occurredAt: MONDAY })),
    ).toEqual([]));

  it('is superseded by a later contrary toggle, an objection withdrawn later, or a relationship ended later', () => {
    expect(
      supersedingTheLast(channelRestrictionLifted({ channel: 'sms', occurredAt: FRIDAY }), channelRestricted({ channel: 'sms', occurredAt: MONDAY })),
    ).toEqual([{ eventId: 'event-0', revision: 0 }]);
    expect(
      supersedingTheLast(objectionWithdrawn({ target: 'direct-marketing', occurredAt: FRIDAY }), objectionRaised({ target: 'direct-marketing', occurredAt: MONDAY })),
    ).toEqual([{ eventId: 'event-0', revision: 0 }]);
    expect(supersedingTheLast(relationshipEnded({ occurredAt: FRIDAY }), relationshipStarted({ occurredAt: MONDAY }))).toEqual([
      { eventId: 'event-0', revision: 0 },
    ]);
  });

  it('is a review superseded by the withdrawal of the objection it answers', () =>
    expect(
      supersedingTheLast(
        objectionRaised({ target: ANALYTICS, needsReview: true, occurredAt: MONDAY }),
        objectionWithdrawn({ target: ANALYTICS, occurredAt: FRIDAY }),
        objectionReviewed({ target: ANALYTICS, outcome: 'upheld', occurredAt: WEDNESDAY }),
      ),
    ).toEqual([{ eventId: 'event-1', revision: 1 }]));

  it('is a review superseded by the objection the person made again after it, which awaits its own', () =>
    expect(
      supersedingTheLast(
        objectionRaised({ target: ANALYTICS, needsReview: true, occurredAt: MONDAY }),
        objectionRaised({ target: ANALYTICS, needsReview: true, occurredAt: FRIDAY }),
        objectionReviewed({ target: ANALYTICS, outcome: 'upheld', occurredAt: WEDNESDAY }),
      ),
    ).toEqual([{ eventId: 'event-1', revision: 1 }]));
});

describe('a choice recorded in the order it was made', () => {
  it('stands', () => {
    expect(
      supersedingTheLast(consentGiven({ purpose: PROSPECTING, channels: ['email'], occurredAt: MONDAY }), consentWithdrawn({ purpose: PROSPECTING, occurredAt: WEDNESDAY })),
    ).toEqual([]);
    expect(supersedingTheLast(relationshipStarted({ occurredAt: MONDAY }), relationshipEnded({ occurredAt: FRIDAY }))).toEqual([]);
  });
});

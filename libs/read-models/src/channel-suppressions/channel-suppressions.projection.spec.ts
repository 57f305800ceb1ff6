import {
  catalogue,
  channelRestricted,
  channelRestrictionLifted,
  objectionRaised,
  objectionReviewed,
  relationshipStarted,
  subjectErased,
} from '@consent-ledger/domain/testing';
import { CHANNELS } from '@consent-ledger/domain';
import { viewAfter } from '../testing/project';
import { suppressionRowsOf } from './channel-suppressions.projection';

const LATER = '2024-06-01T09:00:00Z';

describe('suppression lists per channel', () => {
  it('lists a subject who restricted SMS for every purpose on the SMS list', () => {
    const view = viewAfter([relationshipStarted(), channelRestricted({ channel: 'sms' })]);
    expect(suppressionRowsOf(view, catalogue)).toEqual([
      { channel: 'sms', subjectId: 'subject-1', scope: '*', reason: 'channel-restricted', since: '2024-05-01T09:00:00.000Z' },
    ]);
  });

  it('scopes a restriction for one purpose to that purpose', () => {
    const view = viewAfter([channelRestricted({ channel: 'email', purpose: 'newsletter-customers' })]);
    expect(suppressionRowsOf(view, catalogue)).toMatchObject([{ channel: 'email', scope: 'newsletter-customers' }]);
  });

  it('takes the subject off the list once the restriction is lifted', () => {
    const view = viewAfter([channelRestricted({ channel: 'sms' }), channelRestrictionLifted({ channel: 'sms', occurredAt: LATER })]);
    expect(suppressionRowsOf(view, catalogue)).toEqual([]);
  });

  it('suppresses every channel direct marketing reaches people on, TV screens and online ads included, after an objection to direct marketing', () => {
    const view = viewAfter([relationshipStarted(), objectionRaised({ target: 'direct-marketing' })]);
    const rows = suppressionRowsOf(view, catalogue);
    expect(new Set(rows.map((row) => row.channel))).toEqual(new Set(['email', 'online-ads', 'phone', 'post', 'push', 'sms', 'tv-screen']));
    expect(rows.every((row) => row.scope === 'direct-marketing' && row.reason === 'objected')).toBe(true);
  });

  it('keeps a motivated objection on the list while it waits for review, and drops it when the review rejects it', () => {
    const pending = viewAfter([relationshipStarted(), objectionRaised({ target: 'direct-carrier-billing', needsReview: true })]);
    expect(suppressionRowsOf(pending, catalogue)).toMatchObject([{ channel: 'sms', reason: 'objection-pending-review' }]);

    const rejected = viewAfter([
      relationshipStarted(),
      objectionRaised({ target: 'direct-carrier-billing', needsReview: true }),
      objectionReviewed({ target: 'direct-carrier-billing', outcome: 'rejected', occurredAt: LATER }),
    ]);
    expect(suppressionRowsOf(rejected, catalogue)).toEqual([]);
  });

  it('puts an erased subject on every channel list', () => {
    const view = viewAfter([relationshipStarted(), subjectErased()]);
    expect(suppressionRowsOf(view, catalogue).map((row) => row.channel).sort()).toEqual([...CHANNELS].sort());
  });
});

import {
  catalogue,
  channelRestricted,
  channelRestrictionLifted,
  consentGiven,
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

  // Found in review: a tool subtracting the group's rows left out the prospect who subscribed to
  // the newsletter again, whom the decisions allow.
  it('lists an objection to direct marketing under each purpose it still stops on a channel where the person consented to one of them since', () => {
    const view = viewAfter([
      relationshipStarted({ relationship: 'prospect' }),
      objectionRaised({ target: 'direct-marketing' }),
      consentGiven({ purpose: 'newsletter-prospects', channels: ['email'], occurredAt: LATER }),
    ]);
    const email = suppressionRowsOf(view, catalogue).filter((row) => row.channel === 'email');
    const emailScopes = email.map((row) => row.scope);

    expect(emailScopes).not.toContain('newsletter-prospects');
    expect(emailScopes).not.toContain('direct-marketing');
    expect(emailScopes).toEqual(expect.arrayContaining(['newsletter-customers', 'direct-marketing-prospects-phone-email']));
    expect(email.every((row) => row.reason === 'objected' && row.since === '2024-05-01T09:00:00.000Z')).toBe(true);
    expect(suppressionRowsOf(view, catalogue).filter((row) => row.channel === 'sms')).toMatchObject([{ scope: 'direct-marketing' }]);
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

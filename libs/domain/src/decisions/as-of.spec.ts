import { consentGiven, consentWithdrawn, given, relationshipStarted } from '../testing';

const TV_ADS = 'targeted-tv-advertising-pickx';

describe('answering for a past instant', () => {
  const history = () =>
    given(
      relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' }),
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-05-01T09:00:00Z' }),
      // The withdrawal was signed in a shop on 1 July but keyed in on 20 July.
      consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-07-01T09:00:00Z', recordedAt: '2024-07-20T15:00:00Z', capture: { touchpoint: 'shop' } }),
    );

  it('says what the person had chosen by then', () => {
    expect(history().mayProcess({ purpose: TV_ADS, at: '2024-06-15T00:00:00Z' }).allowed).toBe(true);
    expect(history().mayProcess({ purpose: TV_ADS, at: '2024-07-10T00:00:00Z' }).reason).toBe('consent-withdrawn');
  });

  it('says what the system knew then, before the late paperwork arrived', () =>
    expect(history().mayProcess({ purpose: TV_ADS, at: '2024-07-10T00:00:00Z', knownAt: '2024-07-10T00:00:00Z' })).toMatchObject({
      allowed: true,
      reason: 'consent-active',
    }));

  it('knows of nothing before the first event was recorded', () =>
    expect(history().mayProcess({ purpose: TV_ADS, at: '2024-04-30T00:00:00Z' }).reason).toBe('no-consent'));
});

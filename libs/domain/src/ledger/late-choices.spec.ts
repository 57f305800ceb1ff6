import {
  consentGiven,
  consentWithdrawn,
  given,
  giveConsent,
  objectionRaised,
  objectionWithdrawn,
  relationshipEnded,
  relationshipStarted,
  withdrawConsent,
} from '../testing';

const TV_ADS = 'targeted-tv-advertising-pickx';
/** Pickx ads exist only for customers. */
const customer = () => relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' });

describe('choices that arrive late or out of order', () => {
  it('records an older withdrawal that arrives after a newer consent, as evidence', () =>
    given(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-06-01T00:00:00Z' }))
      .when(withdrawConsent({ purpose: TV_ADS, occurredAt: '2024-05-15T00:00:00Z' }))
      .then(consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-05-15T00:00:00Z' })));

  it('lets the newer consent keep winning over the older withdrawal recorded after it', () =>
    expect(
      given(
        customer(),
        consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-06-01T00:00:00Z' }),
        consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-05-15T00:00:00Z', recordedAt: '2024-06-02T00:00:00Z' }),
      ).mayProcess({ purpose: TV_ADS, at: '2024-06-10T00:00:00Z' }),
    ).toMatchObject({
      allowed: true,
      basedOn: [
        { eventId: 'event-0', revision: 0 },
        { eventId: 'event-1', revision: 1 },
      ],
    }));

  it('records an older consent that arrives after a newer withdrawal, without reviving it', () => {
    const subject = given(
      customer(),
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-05-01T00:00:00Z' }),
      consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-07-01T00:00:00Z' }),
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-06-01T00:00:00Z', recordedAt: '2024-07-05T00:00:00Z' }),
    );
    expect(subject.mayProcess({ purpose: TV_ADS, at: '2024-07-10T00:00:00Z' }).reason).toBe('consent-withdrawn');
    expect(subject.mayProcess({ purpose: TV_ADS, at: '2024-06-15T00:00:00Z' }).reason).toBe('consent-active');
  });

  it('records a consent that arrives late after a newer withdrawal rather than ignoring it', () =>
    given(
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-05-01T00:00:00Z' }),
      consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-07-01T00:00:00Z' }),
    )
      .when(giveConsent({ purpose: TV_ADS, occurredAt: '2024-06-01T00:00:00Z' }))
      .then(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-06-01T00:00:00Z' })));

  it('keeps the latest withdrawal when an older one arrives after it', () =>
    expect(
      given(
        customer(),
        consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-06-01T00:00:00Z' }),
        consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-07-01T00:00:00Z' }),
        consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-05-01T00:00:00Z', recordedAt: '2024-07-02T00:00:00Z' }),
      ).mayProcess({ purpose: TV_ADS, at: '2024-07-10T00:00:00Z' }).reason,
    ).toBe('consent-withdrawn'));

  it('keeps an objection raised later than a late-arriving withdrawal of it', () =>
    expect(
      given(
        relationshipStarted(),
        objectionRaised({ target: 'direct-marketing', occurredAt: '2024-07-01T00:00:00Z' }),
        objectionWithdrawn({ target: 'direct-marketing', occurredAt: '2024-06-01T00:00:00Z', recordedAt: '2024-07-02T00:00:00Z' }),
      ).mayProcess({ purpose: 'direct-marketing-customers-phone-email', at: '2024-07-10T00:00:00Z' }).reason,
    ).toBe('objected'));

  it('keeps a relationship ended later than a late-arriving start', () =>
    expect(
      given(
        relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' }),
        relationshipEnded({ occurredAt: '2025-01-31T00:00:00Z' }),
        relationshipStarted({ occurredAt: '2021-01-01T00:00:00Z', segment: 'business' }),
      ).mayProcess({ purpose: 'service-provision', at: '2025-06-01T00:00:00Z' }).reason,
    ).toBe('no-relationship'));
});

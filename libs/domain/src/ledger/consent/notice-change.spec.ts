import { loadCatalogue } from '../../catalogue/catalogue';
import { catalogue, consentGiven, consentWithdrawn, givenUnder, instant, relationshipStarted } from '../../testing';
import { preferencesOf } from '../../decisions/preferences';

const TV_ADS = 'targeted-tv-advertising-pickx';
const CHANGED = '2026-12-01T00:00:00.000Z';

/** The operator's catalogue after Pickx ads started using a new data source: earlier consents did not agree to it. */
const changed = loadCatalogue({
  ...catalogue.definition,
  purposes: catalogue.definition.purposes.map((purpose) => (purpose.id === TV_ADS ? { ...purpose, noticeChangedAt: CHANGED } : purpose)),
});
const customer = relationshipStarted({ occurredAt: '2024-01-01T00:00:00Z' });
const before = consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2025-03-01T10:00:00Z' });

describe('a consent purpose whose notice changed', () => {
  it('keeps a consent given before the change until the change, and says so in advance', () => {
    expect(givenUnder(changed, customer, before).mayProcess({ purpose: TV_ADS, at: '2026-11-30T23:00:00Z' })).toMatchObject({ allowed: true, validUntil: CHANGED });
  });

  it('asks again: from the change on, the earlier consent no longer counts', () => {
    const decision = givenUnder(changed, customer, before).mayProcess({ purpose: TV_ADS, channel: 'tv-screen', at: '2026-12-01T00:00:00Z' });
    expect(decision).toMatchObject({ allowed: false, reason: 'notice-changed', basedOn: [{ eventId: 'event-1' }] });
  });

  it('counts a consent given after the change, also one given again by the person who had agreed before', () => {
    const again = consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2026-12-05T10:00:00Z' });
    expect(givenUnder(changed, customer, before, again).mayProcess({ purpose: TV_ADS, at: '2027-01-01T00:00:00Z' })).toMatchObject({
      allowed: true,
      reason: 'consent-active',
      basedOn: [{ eventId: 'event-0' }, { eventId: 'event-2' }],
    });
  });

  it('still tells a withdrawal from a consent that lapsed with its notice', () => {
    const withdrawn = givenUnder(changed, customer, before, consentWithdrawn({ purpose: TV_ADS, occurredAt: '2025-06-01T00:00:00Z' }));
    expect(withdrawn.mayProcess({ purpose: TV_ADS, at: '2027-01-01T00:00:00Z' })).toMatchObject({ allowed: false, reason: 'consent-withdrawn' });
  });

  it('shows the preference centre which consents the person must give again', () => {
    const { ledger } = givenUnder(changed, customer, before);
    const tvAds = preferencesOf(ledger, changed, { at: instant('2026-12-02T00:00:00Z') }).purposes.find((purpose) => purpose.purpose === TV_ADS);
    expect(tvAds).toMatchObject({ allowed: false, reason: 'notice-changed' });
  });

  it('is a date the catalogue writes in one spelling, on consent purposes only', () => {
    const withNoticeChange = (purposeId: string, noticeChangedAt: string) => () =>
      loadCatalogue({
        ...catalogue.definition,
        purposes: catalogue.definition.purposes.map((purpose) => (purpose.id === purposeId ? { ...purpose, noticeChangedAt } : purpose)),
      });
    expect(withNoticeChange(TV_ADS, '2026-12-01')).toThrow(/noticeChangedAt: must be an instant written as 2026-12-01T00:00:00.000Z/);
    expect(withNoticeChange('newsletter-customers', CHANGED)).toThrow(/noticeChangedAt: only consent-based purposes/);
  });
});

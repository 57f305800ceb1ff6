import { loadCatalogue } from '../../catalogue/catalogue';
import { decide } from '../decide';
import { catalogue, consentGiven, consentWithdrawn, givenUnder, giveConsent, instant, relationshipStarted } from '../../testing';
import { preferencesOf } from '../../decisions/preferences';
import { consentReceiptOf } from '../../receipts/consent-receipt';
import { retentionHoldsOf } from '../../retention/proof-retention';
import { recorded } from '../../testing';

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

  // Found in review: the standing grant ended with the change, the repeat did not, so every
  // duplicate delivery of a consent given before the change was recorded again.
  it('records nothing for a duplicate delivery of a consent given before the change', () =>
    givenUnder(changed, customer, before)
      .when(giveConsent({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2025-03-01T10:00:00Z' }))
      .thenNothingHappened());

  it('still tells a withdrawal from a consent that lapsed with its notice', () => {
    const withdrawn = givenUnder(changed, customer, before, consentWithdrawn({ purpose: TV_ADS, occurredAt: '2025-06-01T00:00:00Z' }));
    expect(withdrawn.mayProcess({ purpose: TV_ADS, at: '2027-01-01T00:00:00Z' })).toMatchObject({ allowed: false, reason: 'consent-withdrawn' });
  });

  // Found in review: asked without a channel, the reason followed the order the grants were given in.
  it('says the notice changed when that ended the last of the consents, asked without a channel', () => {
    const prospecting = 'direct-marketing-prospects-phone-email';
    const alsoChanged = loadCatalogue({
      ...catalogue.definition,
      purposes: catalogue.definition.purposes.map((purpose) => (purpose.id === prospecting ? { ...purpose, noticeChangedAt: '2026-06-01T00:00:00.000Z' } : purpose)),
    });
    const phone = consentGiven({ purpose: prospecting, channels: ['phone'], occurredAt: '2025-01-01T00:00:00Z', expiresAt: instant('2028-01-01T00:00:00Z') });
    const email = consentGiven({ purpose: prospecting, channels: ['email'], occurredAt: '2025-02-01T00:00:00Z', expiresAt: instant('2026-03-01T00:00:00Z') });
    for (const history of [[phone, email], [email, phone]]) {
      expect(givenUnder(alsoChanged, ...history).mayProcess({ purpose: prospecting, at: '2026-07-01T00:00:00Z' })).toMatchObject({ allowed: false, reason: 'notice-changed' });
    }
  });

  it('shows the preference centre which consents the person must give again', () => {
    const { ledger } = givenUnder(changed, customer, before);
    const tvAds = preferencesOf(ledger, changed, { at: instant('2026-12-02T00:00:00Z') }).purposes.find((purpose) => purpose.purpose === TV_ADS);
    expect(tvAds).toMatchObject({ allowed: false, reason: 'notice-changed' });
  });

  describe('under a notice the change replaced', () => {
    /** The catalogue lists the notice the change replaced, as its author does when publishing the new one. */
    const replacing = loadCatalogue({
      ...catalogue.definition,
      noticeVersion: '2026-12-01',
      purposes: catalogue.definition.purposes.map((purpose) => (purpose.id === TV_ADS ? { ...purpose, noticeChangedAt: CHANGED, replacedNoticeVersions: ['2024-02-27'] } : purpose)),
    });
    const under = (noticeVersion: string, occurredAt: string) => giveConsent({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt, capture: { noticeVersion } });

    it('refuses a consent given after the change by a person shown the replaced notice', () =>
      givenUnder(replacing, customer).when(under('2024-02-27', '2026-12-05T10:00:00Z')).thenRejected('notice-outdated'));

    it('records a consent given after the change under the new notice', () => {
      const { ledger } = givenUnder(replacing, customer);
      expect(decide(under('2026-12-01', '2026-12-05T10:00:00Z'), ledger, { catalogue: replacing })).toMatchObject([{ type: 'ConsentGiven', data: { noticeVersion: '2026-12-01' } }]);
    });

    // Found in review: every consent given before the change ended with it, so a channel could not
    // collect consents under the new notice before its effective date.
    it('keeps a consent given before the change under the new notice', () => {
      const early = consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2026-11-20T10:00:00Z', noticeVersion: '2026-12-01' });
      expect(givenUnder(replacing, customer, early).mayProcess({ purpose: TV_ADS, channel: 'tv-screen', at: '2026-12-02T00:00:00Z' })).toMatchObject({
        allowed: true,
        validUntil: null,
      });
    });

    // Found in review: shop paperwork under the old notice, signed days after the person had agreed
    // to the new one, took its place, and the person was asked again at the change.
    it('records nothing for a consent under the replaced notice given while one under the new notice stands', () => {
      const early = consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2026-11-15T10:00:00Z', noticeVersion: '2026-12-01' });
      givenUnder(replacing, customer, early).when(under('2024-02-27', '2026-11-20T10:00:00Z')).thenNothingHappened();
    });

    it('records late paperwork signed before the change under the replaced notice, which then ends at the change', () => {
      const { ledger } = givenUnder(replacing, customer);
      const [late] = decide(under('2024-02-27', '2026-11-20T10:00:00Z'), ledger, { catalogue: replacing });
      expect(givenUnder(replacing, customer, late).mayProcess({ purpose: TV_ADS, channel: 'tv-screen', at: CHANGED })).toMatchObject({ allowed: false, reason: 'notice-changed' });
    });

    it('lists replaced notices only beside a change, and never the catalogue\'s own notice', () => {
      const withOutdated = (fields: Record<string, unknown>) => () =>
        loadCatalogue({
          ...catalogue.definition,
          purposes: catalogue.definition.purposes.map((purpose) => (purpose.id === TV_ADS ? { ...purpose, ...fields } : purpose)),
        });
      expect(withOutdated({ replacedNoticeVersions: ['2023-01-01'] })).toThrow(/replacedNoticeVersions: only makes sense with a noticeChangedAt/);
      expect(withOutdated({ noticeChangedAt: CHANGED, replacedNoticeVersions: [catalogue.definition.noticeVersion] })).toThrow(/replacedNoticeVersions: .*is the catalogue's own notice/);
      expect(withOutdated({ noticeChangedAt: CHANGED, replacedNoticeVersions: [''] })).toThrow(/replacedNoticeVersions/);
      // Found in review: an empty list, or a version with spaces around it, silently replaced nothing.
      expect(withOutdated({ noticeChangedAt: CHANGED, replacedNoticeVersions: [] })).toThrow(/replacedNoticeVersions: must list at least one version/);
      expect(withOutdated({ noticeChangedAt: CHANGED, replacedNoticeVersions: [' 2023-01-01 '] })).toThrow(/replacedNoticeVersions: must name versions as channels send them/);
    });

    it('keeps the proof of a consent given early under the new notice while it holds', () => {
      const early = consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2026-11-20T10:00:00Z', noticeVersion: '2026-12-01' });
      expect(retentionHoldsOf(recorded([customer, early]), replacing)).toContainEqual(expect.objectContaining({ purpose: TV_ADS, until: null }));
    });
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

  // Found in review: proof of a consent without end was kept for ever though the notice change
  // ended it, and the consent given again was told as a renewal of one that no longer held.
  describe('in the proof', () => {
    const history = recorded([customer, before, consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2026-12-05T10:00:00Z' })]);
    const withChain = (index: number) => ({
      ...history[index],
      chain: { streamName: 'stream', position: String(index + 1), hash: `hash-${index}`, previousHash: `hash-${index - 1}`, storedAt: history[index].data.capture.recordedAt },
    });

    it('keeps the proof of the earlier consent for the proof period after the change, not for ever', () => {
      const onlyBefore = recorded([customer, before]);
      expect(retentionHoldsOf(onlyBefore, changed)).toContainEqual(expect.objectContaining({ reason: 'consent-proof', purpose: TV_ADS, until: '2031-12-01T00:00:00.000Z' }));
    });

    // Found in review: the receipt said the consent ended at the change and was also ended by a later withdrawal.
    it('names no later withdrawal as ending a consent the change had already ended', () => {
      const withdrawnLater = recorded([customer, before, consentWithdrawn({ purpose: TV_ADS, occurredAt: '2026-12-10T00:00:00Z' })]);
      const chained = withdrawnLater.map((event, index) => ({
        ...event,
        chain: { streamName: 'stream', position: String(index + 1), hash: `hash-${index}`, previousHash: `hash-${index - 1}`, storedAt: event.data.capture.recordedAt },
      }));
      const receipt = consentReceiptOf(chained[1], chained, changed);
      expect(receipt).toMatchObject({ validity: { until: CHANGED } });
      expect(receipt.validity).not.toHaveProperty('endedBy');
    });

    it('tells the earlier consent as ending at the change, and the one given after it as given, not renewed', () => {
      expect(consentReceiptOf(withChain(1), history.map((_, index) => withChain(index)), changed)).toMatchObject({ validity: { until: CHANGED } });
      expect(consentReceiptOf(withChain(2), history.map((_, index) => withChain(index)), changed)).toMatchObject({ decision: 'consent-given' });
    });
  });
});

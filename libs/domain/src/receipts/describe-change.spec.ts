import { loadCatalogue } from '../catalogue/catalogue';
import {
  catalogue,
  channelRestricted,
  channelRestrictionLifted,
  consentGiven,
  given,
  givenUnder,
  giveConsent,
  instant,
  recorded,
  relationshipEnded,
  relationshipStarted,
  sourceOptedIn,
  sourceOptedOut,
} from '../testing';
import { decide } from '../ledger/decide';
import type { LedgerEvent } from '../ledger/events';
import { initialLedger } from '../ledger/ledger';
import { describeChange } from './describe-change';

const PROFILING = 'customer-profiling-consent-based';
const TV_ADS = 'targeted-tv-advertising-pickx';

/** The sentence for the last of `events`, as the timeline and the export tell it. */
const sentenceFor = (...events: LedgerEvent[]) => describeChange(recorded(events).at(-1)!, catalogue);

const customer = relationshipStarted({ occurredAt: '2024-01-01T00:00:00Z' });
const leaves = relationshipEnded({ occurredAt: '2026-03-01T00:00:00Z' });

// Each sentence is checked against what the decisions do with the choice: the person reads the
// sentence in their export next to those decisions.
describe('the plain words for a consent', () => {
  it('say a consent to profiling ends five years after the contract, as its decision does, not "until withdrawn"', () => {
    const consent = consentGiven({ purpose: PROFILING, occurredAt: '2025-02-01T10:00:00Z' });
    expect(sentenceFor(customer, consent)).toBe(
      `consent given to ${PROFILING} under notice 2024-02-27 (fr-BE), until withdrawn or until 5 years after the customer contract it was given under ends`,
    );
    expect(given(customer, consent, leaves).mayProcess({ purpose: PROFILING, at: '2026-06-01T00:00:00Z' })).toMatchObject({
      allowed: true,
      validUntil: '2031-03-01T00:00:00.000Z',
    });
  });

  it('say a consent to Pickx TV ads ends with the contract, as its decision does', () => {
    const consent = consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2025-02-01T10:00:00Z' });
    expect(sentenceFor(customer, consent)).toBe(
      `consent given to ${TV_ADS} on tv-screen under notice 2024-02-27 (fr-BE), until withdrawn or until the customer contract it was given under ends`,
    );
    const comesBack = relationshipStarted({ occurredAt: '2026-04-01T00:00:00Z' });
    expect(given(customer, consent, leaves, comesBack).mayProcess({ purpose: TV_ADS, at: '2026-06-01T00:00:00Z' })).toMatchObject({ allowed: false, reason: 'consent-expired' });
  });

  it('give the date of a consent that lapses after the catalogue\'s validity', () => {
    const [consent] = decide(giveConsent({ purpose: 'newsletter-prospects', occurredAt: '2024-05-01T09:00:00Z' }), initialLedger(), { catalogue });
    expect(sentenceFor(consent)).toBe('consent given to newsletter-prospects on email under notice 2024-02-27 (fr-BE), valid until 2027-05-01T09:00:00.000Z');
  });

  it('give both ends of a consent the person limited to a date, for a purpose that also ends with the contract', () => {
    const consent = consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2025-02-01T10:00:00Z', expiresAt: instant('2028-01-01T00:00:00Z') });
    expect(sentenceFor(customer, consent)).toBe(
      `consent given to ${TV_ADS} on tv-screen under notice 2024-02-27 (fr-BE), valid until 2028-01-01T00:00:00.000Z, or until the customer contract it was given under ends if sooner`,
    );
  });

  it('say until withdrawn for a consent nothing else ends', () =>
    expect(sentenceFor(consentGiven({ purpose: 'advertising-cookies-retargeting', channels: ['online-ads'] }))).toBe(
      'consent given to advertising-cookies-retargeting on online-ads under notice 2024-02-27 (fr-BE), until withdrawn',
    ));

  it('give the date the notice it agreed to was replaced, when the catalogue in force says so', () => {
    const changed = loadCatalogue({
      ...catalogue.definition,
      purposes: catalogue.definition.purposes.map((purpose) =>
        purpose.id === 'advertising-cookies-retargeting' ? { ...purpose, noticeChangedAt: '2026-12-01T00:00:00.000Z' } : purpose,
      ),
    });
    const consent = consentGiven({ purpose: 'advertising-cookies-retargeting', channels: ['online-ads'], occurredAt: '2025-02-01T10:00:00Z' });
    expect(describeChange(recorded([consent])[0], changed)).toBe(
      'consent given to advertising-cookies-retargeting on online-ads under notice 2024-02-27 (fr-BE), valid until 2026-12-01T00:00:00.000Z (when notice 2024-02-27 was replaced for this purpose)',
    );
    expect(givenUnder(changed, consent).mayProcess({ purpose: 'advertising-cookies-retargeting', at: '2026-12-02T00:00:00Z' })).toMatchObject({ reason: 'notice-changed' });
  });
});

describe('the plain words for a channel restricted', () => {
  it('say a restriction for every purpose stops marketing, not the invoices the contract sends nor invitations to research', () => {
    const restricted = channelRestricted({ channel: 'sms' });
    expect(sentenceFor(customer, restricted)).toBe('no contact on sms for marketing; it does not stop sms for billing-accounting, direct-carrier-billing, market-research-invitations');
    const history = given(customer, restricted);
    expect(history.mayProcess({ purpose: 'billing-accounting', channel: 'sms', at: '2024-06-01T00:00:00Z' })).toMatchObject({ allowed: true });
    expect(history.mayProcess({ purpose: 'direct-carrier-billing', channel: 'sms', at: '2024-06-01T00:00:00Z' })).toMatchObject({ allowed: true });
    expect(history.mayProcess({ purpose: 'market-research-invitations', channel: 'sms', at: '2024-06-01T00:00:00Z' })).toMatchObject({ allowed: true });
    expect(history.mayProcess({ purpose: 'direct-marketing-customers-phone-email', channel: 'sms', at: '2024-06-01T00:00:00Z' })).toMatchObject({ reason: 'channel-restricted' });
  });

  it('say a restriction of what the person cannot refuse, recorded before it was refused, has no effect', () => {
    const restricted = channelRestricted({ channel: 'sms', purpose: 'billing-accounting' });
    expect(sentenceFor(customer, restricted)).toBe('recorded for billing-accounting, but without effect: the person cannot refuse it');
    expect(given(customer, restricted).mayProcess({ purpose: 'billing-accounting', channel: 'sms', at: '2024-06-01T00:00:00Z' })).toMatchObject({ allowed: true });
  });

  it('say lifting a restriction opens the channel again only where the person had refused it', () => {
    expect(sentenceFor(channelRestrictionLifted({ channel: 'sms' }))).toBe('sms no longer refused for marketing (a restriction recorded for one purpose stays)');
    expect(sentenceFor(channelRestrictionLifted({ channel: 'email', purpose: 'newsletter-customers' }))).toBe('email no longer refused for newsletter-customers');
  });
});

describe('the plain words for a data source opted out of', () => {
  it('say an opt-out for every purpose stops more than profiling: every purpose drawing on the source the person may refuse', () => {
    const optedOut = sourceOptedOut({ source: 'tv-viewing' });
    expect(sentenceFor(customer, optedOut)).toBe('tv-viewing data no longer used for any purpose the person may refuse or object to (profiling, personalisation, advertising)');
    expect(
      given(customer, optedOut).mayProcess({ purpose: 'pickx-personalised-recommendations-promotion', source: 'tv-viewing', at: '2024-06-01T00:00:00Z' }),
    ).toMatchObject({ reason: 'source-opted-out' });
  });

  it('say opting in again lifts only the opt-out for every purpose', () =>
    expect(sentenceFor(sourceOptedIn({ source: 'tv-viewing' }))).toBe('tv-viewing data no longer refused for every purpose (an opt-out recorded for one purpose stays)'));
});

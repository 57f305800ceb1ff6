import {
  channelRestricted,
  consentGiven,
  consentWithdrawn,
  given,
  instant,
  objectionRaised,
  objectionReviewed,
  objectionWithdrawn,
  relationshipEnded,
  relationshipStarted,
  sealed,
  sourceOptedOut,
  subjectErased,
} from '../testing';
import type { Channel } from '../vocabulary';

const CUSTOMER_MARKETING = 'direct-marketing-customers-phone-email';
const PROSPECTING = 'direct-marketing-prospects-phone-email';
const TV_ADS = 'targeted-tv-advertising-pickx';
const PROFILING = 'customer-profiling-consent-based';
const RECORDING = 'customer-service-recording-quality-control';
const RENEWAL = 'former-customer-consent-renewal-campaign';
const JUNE_2024 = '2024-06-01T12:00:00Z';

describe('processing that rests on a legal obligation', () => {
  it('is allowed whatever the subject chose, and says so', () => {
    const subject = given(relationshipStarted(), objectionRaised({ target: 'direct-marketing' }));
    expect(subject.mayProcess({ purpose: 'best-tariff-plan-consumption-profiling', at: JUNE_2024 })).toEqual({
      allowed: true,
      reason: 'legal-obligation',
      legalBasis: 'legal-obligation',
      basedOn: [],
      validUntil: null,
    });
  });

  it('is still allowed after the subject was erased', () =>
    expect(given(relationshipStarted(), subjectErased()).mayProcess({ purpose: 'legal-retention-traffic-location-data', at: JUNE_2024 }).allowed).toBe(true));

  it('holds for the period the law sets, such as a subscriber identified until 12 months after the service ended', () => {
    const former = given(relationshipStarted(), relationshipEnded({ occurredAt: '2024-05-31T00:00:00Z' }));
    const identification = 'legal-retention-paid-service-subscriber-identification';
    expect(former.mayProcess({ purpose: identification, at: JUNE_2024 })).toMatchObject({
      allowed: true,
      reason: 'legal-obligation',
      validUntil: '2025-05-31T00:00:00.000Z',
    });
    expect(former.mayProcess({ purpose: identification, at: '2025-06-01T00:00:00Z' })).toMatchObject({ allowed: false, reason: 'retention-window-ended' });
    expect(given().mayProcess({ purpose: identification, at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'no-relationship' });
    expect(former.mayProcess({ purpose: 'emergency-central-number-database-access', at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'no-relationship' });
  });
});

// Found by a DPO review: a purpose that also reaches users (who need no relationship) ignored the
// window it declares for former customers, so a subscriber whose contract ended in 2012 was still
// identified under the telecom law in 2026.
describe('a purpose that also reaches people without a relationship, such as users', () => {
  const IDENTIFICATION = 'legal-retention-network-service-identification-data';
  const contractEnded = (occurredAt: string) => [relationshipStarted({ occurredAt: '2010-01-01T00:00:00Z' }), relationshipEnded({ occurredAt })];

  it('keeps a former customer for the window it declares, and says until when', () =>
    expect(given(...contractEnded('2024-05-31T00:00:00Z')).mayProcess({ purpose: IDENTIFICATION, at: JUNE_2024 })).toEqual({
      allowed: true,
      reason: 'legal-obligation',
      legalBasis: 'legal-obligation',
      basedOn: [{ eventId: 'event-1', revision: 1 }],
      validUntil: '2025-05-31T00:00:00.000Z',
    }));

  it('stops for a former customer once that window has closed, on the end of the contract', () =>
    expect(given(...contractEnded('2012-03-01T00:00:00Z')).mayProcess({ purpose: IDENTIFICATION, at: '2026-03-01T00:00:00Z' })).toEqual({
      allowed: false,
      reason: 'retention-window-ended',
      legalBasis: 'legal-obligation',
      basedOn: [{ eventId: 'event-1', revision: 1 }],
      validUntil: null,
    }));

  it('stops for a former customer recorded again as a prospect once the window of the contract has closed', () =>
    expect(
      given(...contractEnded('2012-03-01T00:00:00Z'), relationshipStarted({ relationship: 'prospect', occurredAt: '2025-01-01T00:00:00Z' })).mayProcess({
        purpose: IDENTIFICATION,
        at: '2026-03-01T00:00:00Z',
      }),
    ).toMatchObject({ allowed: false, reason: 'retention-window-ended' }));

  it('holds for a former customer who became a customer again', () =>
    expect(
      given(...contractEnded('2012-03-01T00:00:00Z'), relationshipStarted({ occurredAt: '2025-01-01T00:00:00Z' })).mayProcess({ purpose: IDENTIFICATION, at: '2026-03-01T00:00:00Z' }),
    ).toMatchObject({ allowed: true, validUntil: null }));

  it('still reaches a current customer, a prospect and someone the ledger knows no relationship of, who may be users', () => {
    for (const subject of [given(relationshipStarted()), given(relationshipStarted({ relationship: 'prospect' })), given()]) {
      expect(subject.mayProcess({ purpose: IDENTIFICATION, at: '2026-03-01T00:00:00Z' })).toEqual({
        allowed: true,
        reason: 'legal-obligation',
        legalBasis: 'legal-obligation',
        basedOn: [],
        validUntil: null,
      });
    }
  });

  it('invites a former customer to market research, and sends them app promotions, for five years after the contract', () => {
    const former = given(...contractEnded('2020-03-01T00:00:00Z'));
    for (const purpose of ['market-research-invitations', 'myproximus-app-notifications']) {
      expect({ purpose, ...former.mayProcess({ purpose, at: '2024-03-01T00:00:00Z' }) }).toMatchObject({ purpose, allowed: true, validUntil: '2025-03-01T00:00:00.000Z' });
      expect({ purpose, ...former.mayProcess({ purpose, at: '2026-03-01T00:00:00Z' }) }).toMatchObject({ purpose, allowed: false, reason: 'retention-window-ended' });
    }
  });

  it('counts the window of the brand asked about only', () =>
    expect(given(...contractEnded('2012-03-01T00:00:00Z')).mayProcess({ purpose: IDENTIFICATION, brand: 'scarlet', at: '2026-03-01T00:00:00Z' })).toMatchObject({
      allowed: true,
      validUntil: null,
    }));
});

describe('processing that rests on consent', () => {
  it('is denied until the subject consents', () =>
    expect(given(relationshipStarted()).mayProcess({ purpose: TV_ADS, at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'no-consent', legalBasis: 'consent' }));

  it('is allowed on the consent that decided it', () =>
    expect(given(consentGiven({ purpose: 'website-personalisation-login-cookie' })).mayProcess({ purpose: 'website-personalisation-login-cookie', at: JUNE_2024 })).toEqual({
      allowed: true,
      reason: 'consent-active',
      legalBasis: 'consent',
      basedOn: [{ eventId: 'event-0', revision: 0 }],
      validUntil: null,
    }));

  it('is denied once the consent is withdrawn, pointing at both events', () =>
    expect(
      given(relationshipStarted(), consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] }), consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-05-20T00:00:00Z' })).mayProcess({
        purpose: TV_ADS,
        at: JUNE_2024,
      }),
    ).toMatchObject({ allowed: false, reason: 'consent-withdrawn', basedOn: [{ eventId: 'event-2', revision: 2 }] }));

  it('holds a prospect consent until three years after it was given, then reports it expired', () => {
    const subject = given(consentGiven({ purpose: PROSPECTING, channels: ['phone'], expiresAt: instant('2027-05-01T09:00:00Z') }));
    expect(subject.mayProcess({ purpose: PROSPECTING, channel: 'phone', at: '2027-04-30T00:00:00Z' })).toMatchObject({
      allowed: true,
      validUntil: '2027-05-01T09:00:00.000Z',
    });
    expect(subject.mayProcess({ purpose: PROSPECTING, channel: 'phone', at: '2027-05-01T09:00:00Z' })).toMatchObject({ allowed: false, reason: 'consent-expired' });
  });

  it('does not let a consent for one channel cover another', () => {
    const subject = given(consentGiven({ purpose: PROSPECTING, channels: ['phone'], expiresAt: instant('2027-05-01T09:00:00Z') }));
    expect(subject.mayProcess({ purpose: PROSPECTING, channel: 'phone', at: JUNE_2024 }).allowed).toBe(true);
    expect(subject.mayProcess({ purpose: PROSPECTING, channel: 'email', at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'no-consent' });
  });
});

describe('consent to a purpose that exists only for customers', () => {
  const LEFT = '2025-01-31T10:00:00Z';

  it('counts while the subject is a customer, on the relationship and the consent', () =>
    expect(given(relationshipStarted(), consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] })).mayProcess({ purpose: TV_ADS, channel: 'tv-screen', at: JUNE_2024 })).toEqual({
      allowed: true,
      reason: 'consent-active',
      legalBasis: 'consent',
      basedOn: [
        { eventId: 'event-0', revision: 0 },
        { eventId: 'event-1', revision: 1 },
      ],
      validUntil: null,
    }));

  it.each([
    [TV_ADS, 'tv-screen'],
    ['targeted-web-app-advertising-proximus-ad-network', 'online-ads'],
    ['directory-listing', undefined],
  ] as const)('stops counting for %s once the customer has left', (purpose, channel) =>
    expect(
      given(relationshipStarted(), consentGiven({ purpose, channels: channel ? [channel] : [] }), relationshipEnded({ occurredAt: LEFT })).mayProcess({
        purpose,
        channel,
        at: '2025-02-01T00:00:00Z',
      }),
    ).toMatchObject({ allowed: false, reason: 'no-relationship', legalBasis: 'consent', basedOn: [{ eventId: 'event-2', revision: 2 }] }));

  it('does not count for someone who is a customer of another brand only', () =>
    expect(given(relationshipStarted({ brand: 'scarlet' }), consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] })).mayProcess({ purpose: TV_ADS, channel: 'tv-screen', at: JUNE_2024 })).toMatchObject({
      allowed: false,
      reason: 'no-relationship',
    }));

  it('counts for a former customer as long as the statement keeps the purpose, such as profiling five years after the contract ended', () => {
    const former = given(relationshipStarted(), consentGiven({ purpose: PROFILING }), relationshipEnded({ occurredAt: LEFT }));
    expect(former.mayProcess({ purpose: PROFILING, at: '2029-06-01T00:00:00Z' })).toMatchObject({
      allowed: true,
      reason: 'consent-active',
      basedOn: [{ eventId: 'event-2', revision: 2 }, { eventId: 'event-1', revision: 1 }],
      validUntil: '2030-01-31T10:00:00.000Z',
    });
    expect(former.mayProcess({ purpose: PROFILING, at: '2030-01-31T10:00:00Z' })).toMatchObject({ allowed: false, reason: 'retention-window-ended', legalBasis: 'consent' });
  });

  // Found in review: a consent counted whenever the subject was a customer, so one given under a
  // contract that ended years ago came back with a new contract.
  describe('given under a contract that ended', () => {
    const firstContract = [relationshipStarted({ occurredAt: '2018-01-01T00:00:00Z' })];
    const contractEnded = relationshipEnded({ occurredAt: '2019-01-01T00:00:00Z' });
    const newContract = relationshipStarted({ occurredAt: '2026-01-01T00:00:00Z' });

    it.each([
      [PROFILING, undefined],
      [TV_ADS, 'tv-screen'],
      ['directory-listing', undefined],
    ] as const)('does not come back with a new contract for %s: the person is asked again', (purpose, channel) =>
      expect(
        given(...firstContract, consentGiven({ purpose, channels: channel ? [channel] : [], occurredAt: '2018-02-01T00:00:00Z' }), contractEnded, newContract).mayProcess({
          purpose,
          channel,
          at: '2026-02-01T00:00:00Z',
        }),
      ).toMatchObject({ allowed: false, reason: 'consent-expired', basedOn: [{ eventId: 'event-2', revision: 2 }, { eventId: 'event-1', revision: 1 }] }));

    it("counts in a new contract only until the former-customer window of the old one closes, and says so in advance", () => {
      const subject = given(
        ...firstContract,
        consentGiven({ purpose: PROFILING, occurredAt: '2018-02-01T00:00:00Z' }),
        contractEnded,
        relationshipStarted({ occurredAt: '2020-01-01T00:00:00Z' }),
      );
      expect(subject.mayProcess({ purpose: PROFILING, at: '2021-01-01T00:00:00Z' })).toMatchObject({ allowed: true, reason: 'consent-active', validUntil: '2024-01-01T00:00:00.000Z' });
      expect(subject.mayProcess({ purpose: PROFILING, at: '2024-01-01T00:00:00Z' })).toMatchObject({ allowed: false, reason: 'consent-expired' });
    });

    it('lets a consent given under the new contract count', () =>
      expect(
        given(
          ...firstContract,
          consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2018-02-01T00:00:00Z' }),
          contractEnded,
          newContract,
          consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2026-01-15T00:00:00Z' }),
        ).mayProcess({ purpose: TV_ADS, channel: 'tv-screen', at: '2026-02-01T00:00:00Z' }),
      ).toMatchObject({ allowed: true, reason: 'consent-active', basedOn: [{ eventId: 'event-3', revision: 3 }, { eventId: 'event-4', revision: 4 }], validUntil: null }));

    it('leaves a consent given by a prospect to a prospect purpose alone', () =>
      expect(
        given(
          relationshipStarted({ relationship: 'prospect', occurredAt: '2024-01-01T00:00:00Z' }),
          consentGiven({ purpose: PROSPECTING, channels: ['email'], occurredAt: '2024-02-01T00:00:00Z', expiresAt: instant('2027-02-01T00:00:00Z') }),
          relationshipStarted({ occurredAt: '2024-03-01T00:00:00Z' }),
          relationshipEnded({ occurredAt: '2024-04-01T00:00:00Z' }),
        ).mayProcess({ purpose: PROSPECTING, channel: 'email', at: '2025-01-01T00:00:00Z' }),
      ).toMatchObject({ allowed: true, reason: 'consent-active', validUntil: '2027-02-01T00:00:00.000Z' }));
  });

  // Found in review (over HTTP): a channel that did not name the brand recorded the consent for
  // the default brand, with which a Scarlet-only customer had no contract, so it never ended.
  describe('given by a customer of one brand, recorded for another', () => {
    const scarletContract = [relationshipStarted({ brand: 'scarlet', occurredAt: '2015-01-01T00:00:00Z' })];
    const consent = consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2016-01-01T00:00:00Z' });
    const scarletEnded = relationshipEnded({ brand: 'scarlet', occurredAt: '2017-01-01T00:00:00Z' });

    it('does not come back with a new contract', () =>
      expect(
        given(...scarletContract, consent, scarletEnded, relationshipStarted({ brand: 'scarlet', occurredAt: '2019-01-01T00:00:00Z' })).mayProcess({
          purpose: TV_ADS,
          channel: 'tv-screen',
          brand: 'scarlet',
          at: '2020-01-01T00:00:00Z',
        }),
      ).toMatchObject({ allowed: false, reason: 'consent-expired', basedOn: [{ eventId: 'event-2', revision: 2 }, { eventId: 'event-1', revision: 1 }] }));

    it('does not come back with a first contract with the brand it was recorded for either', () =>
      expect(
        given(...scarletContract, consent, scarletEnded, relationshipStarted({ occurredAt: '2019-01-01T00:00:00Z' })).mayProcess({
          purpose: TV_ADS,
          channel: 'tv-screen',
          at: '2020-01-01T00:00:00Z',
        }),
      ).toMatchObject({ allowed: false, reason: 'consent-expired' }));

    it('follows the contract with the brand it was recorded for while one runs', () =>
      expect(
        given(
          relationshipStarted({ occurredAt: '2014-01-01T00:00:00Z' }),
          ...scarletContract,
          consent,
          scarletEnded,
        ).mayProcess({ purpose: TV_ADS, channel: 'tv-screen', at: '2020-01-01T00:00:00Z' }),
      ).toMatchObject({ allowed: true, reason: 'consent-active', validUntil: null }));
  });
  it('leaves purposes that also reach people without a relationship alone, such as Ads & Data for website visitors', () =>
    expect(
      given(consentGiven({ purpose: 'targeted-web-app-advertising-ads-and-data', channels: ['online-ads'] })).mayProcess({
        purpose: 'targeted-web-app-advertising-ads-and-data',
        channel: 'online-ads',
        at: JUNE_2024,
      }),
    ).toMatchObject({ allowed: true, reason: 'consent-active' }));
});

describe('processing that rests on legitimate interest', () => {
  it('needs a relationship with the brand', () =>
    expect(given().mayProcess({ purpose: CUSTOMER_MARKETING, at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'no-relationship' }));

  it('is allowed for an active customer, on the event that started the relationship', () =>
    expect(given(relationshipStarted()).mayProcess({ purpose: CUSTOMER_MARKETING, channel: 'email', at: JUNE_2024 })).toEqual({
      allowed: true,
      reason: 'legitimate-interest',
      legalBasis: 'legitimate-interest',
      basedOn: [{ eventId: 'event-0', revision: 0 }],
      validUntil: null,
    }));

  it('gives prospects no legitimate-interest marketing', () =>
    expect(given(relationshipStarted({ relationship: 'prospect' })).mayProcess({ purpose: CUSTOMER_MARKETING, at: JUNE_2024 })).toMatchObject({
      allowed: false,
      reason: 'no-relationship',
    }));

  it('needs the relationship with the brand asked about, not another brand', () =>
    expect(given(relationshipStarted({ brand: 'scarlet' })).mayProcess({ purpose: CUSTOMER_MARKETING, at: JUNE_2024 })).toMatchObject({
      allowed: false,
      reason: 'no-relationship',
    }));

  it('reaches former customers for five years after the contract ended, and says until when', () => {
    const subject = given(relationshipStarted(), relationshipEnded({ occurredAt: '2025-01-31T10:00:00Z' }));
    expect(subject.mayProcess({ purpose: CUSTOMER_MARKETING, at: '2029-06-01T00:00:00Z' })).toMatchObject({
      allowed: true,
      reason: 'legitimate-interest',
      validUntil: '2030-01-31T10:00:00.000Z',
    });
    expect(subject.mayProcess({ purpose: CUSTOMER_MARKETING, at: '2030-01-31T10:00:00Z' })).toMatchObject({ allowed: false, reason: 'retention-window-ended' });
  });

  it('reopens former-customer marketing for three years with a consent from the renewal campaign', () => {
    const subject = given(
      relationshipStarted(),
      relationshipEnded({ occurredAt: '2025-01-31T10:00:00Z' }),
      consentGiven({
        purpose: RENEWAL,
        channels: ['phone'],
        occurredAt: '2029-12-01T10:00:00Z',
        expiresAt: instant('2032-12-01T10:00:00Z'),
        capture: { touchpoint: 'call-center', actor: { kind: 'agent', id: 'agent-42' } },
      }),
    );
    expect(subject.mayProcess({ purpose: CUSTOMER_MARKETING, channel: 'phone', at: '2031-01-01T00:00:00Z' })).toEqual({
      allowed: true,
      reason: 'consent-active',
      legalBasis: 'consent',
      basedOn: [
        { eventId: 'event-1', revision: 1 },
        { eventId: 'event-2', revision: 2 },
      ],
      validUntil: '2032-12-01T10:00:00.000Z',
    });
    expect(subject.mayProcess({ purpose: CUSTOMER_MARKETING, channel: 'phone', at: '2032-12-01T10:00:00Z' })).toMatchObject({
      allowed: false,
      reason: 'retention-window-ended',
    });
  });

  it('assesses a former customer\'s new orders against their payment defaults for five years after the contract, when the debt is time-barred', () => {
    const former = given(relationshipStarted({ occurredAt: '2010-01-01T00:00:00Z' }), relationshipEnded({ occurredAt: '2012-03-01T00:00:00Z' }));
    expect(former.mayProcess({ purpose: 'new-order-risk-assessment', at: '2017-02-28T00:00:00Z' })).toMatchObject({ allowed: true, reason: 'contract', validUntil: '2017-03-01T00:00:00.000Z' });
    expect(former.mayProcess({ purpose: 'new-order-risk-assessment', at: '2026-03-01T00:00:00Z' })).toMatchObject({ allowed: false, reason: 'retention-window-ended' });
  });

  it('stops processing for a customer-only purpose once the relationship ended', () =>
    expect(given(relationshipStarted(), relationshipEnded({ occurredAt: '2025-01-31T10:00:00Z' })).mayProcess({ purpose: 'service-provision', at: '2025-02-01T00:00:00Z' })).toMatchObject({
      allowed: false,
      reason: 'no-relationship',
      legalBasis: 'contract',
    }));
});

describe('an objection to direct marketing', () => {
  const objected = () => given(relationshipStarted(), consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] }), objectionRaised({ target: 'direct-marketing' }));

  it.each([
    [CUSTOMER_MARKETING, 'email'],
    [CUSTOMER_MARKETING, 'phone'],
    [CUSTOMER_MARKETING, undefined],
    [TV_ADS, 'tv-screen'],
    ['enjoy-loyalty-programme', 'push'],
    ['myproximus-app-notifications', 'push'],
    ['customer-segmentation-basic-legitimate-interest', undefined],
  ] as const)('denies %s via %s, even where consent was given', (purpose, channel) =>
    expect(objected().mayProcess({ purpose, channel, at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'objected', basedOn: [{ eventId: 'event-2', revision: 2 }] }));

  it('leaves processing that is not marketing alone', () =>
    expect(objected().mayProcess({ purpose: 'billing-accounting', at: JUNE_2024 }).allowed).toBe(true));

  it('stops promotional push notifications in the MyProximus app, not those about the app and invoices', () => {
    expect(objected().mayProcess({ purpose: 'myproximus-app-notifications', channel: 'push', at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'objected' });
    expect(objected().mayProcess({ purpose: 'myproximus-app-service-notifications', channel: 'push', at: JUNE_2024 })).toMatchObject({ allowed: true, reason: 'legitimate-interest' });
  });

  // Found in review: a person who had objected to all direct marketing and later signed up for the
  // newsletter was recorded (201) and never sent it: the later, specific consent is their latest word.
  it('gives way, for one purpose, to a consent given to it after the objection', () => {
    const signedUpLater = given(
      relationshipStarted(),
      objectionRaised({ target: 'direct-marketing', occurredAt: '2024-03-01T00:00:00Z' }),
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2024-04-01T00:00:00Z' }),
    );
    expect(signedUpLater.mayProcess({ purpose: TV_ADS, channel: 'tv-screen', at: JUNE_2024 })).toMatchObject({ allowed: true, reason: 'consent-active' });
    expect(signedUpLater.mayProcess({ purpose: TV_ADS, channel: 'tv-screen', at: '2024-03-15T00:00:00Z' })).toMatchObject({ allowed: false, reason: 'objected' });
    expect(signedUpLater.mayProcess({ purpose: CUSTOMER_MARKETING, channel: 'email', at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'objected' });
  });

  // Found in review: signing up again for e-mail alone brought back calls, SMS and post that the
  // person had consented to before objecting.
  it('gives way only on the channels the later consent covers', () => {
    const emailAgain = given(
      consentGiven({ purpose: PROSPECTING, channels: ['phone', 'email', 'sms', 'post'], occurredAt: '2024-02-01T00:00:00Z' }),
      objectionRaised({ target: 'direct-marketing', occurredAt: '2024-03-01T00:00:00Z' }),
      consentGiven({ purpose: PROSPECTING, channels: ['email'], occurredAt: '2024-04-01T00:00:00Z' }),
    );
    expect(emailAgain.mayProcess({ purpose: PROSPECTING, channel: 'email', at: JUNE_2024 })).toMatchObject({ allowed: true, basedOn: [{ eventId: 'event-2' }] });
    expect(emailAgain.mayProcess({ purpose: PROSPECTING, channel: 'phone', at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'objected' });
    expect(emailAgain.mayProcess({ purpose: PROSPECTING, at: JUNE_2024 })).toMatchObject({ allowed: true, channels: ['email'], basedOn: [{ eventId: 'event-2' }] });
  });

  it('stops denying once withdrawn', () =>
    expect(
      given(relationshipStarted(), objectionRaised({ target: 'direct-marketing' }), objectionWithdrawn({ target: 'direct-marketing', occurredAt: '2024-05-15T00:00:00Z' })).mayProcess({
        purpose: CUSTOMER_MARKETING,
        channel: 'email',
        at: JUNE_2024,
      }).allowed,
    ).toBe(true));
});

describe('a motivated objection', () => {
  const raised = objectionRaised({ target: RECORDING, needsReview: true, justification: sealed('why') });

  it('restricts the processing while it waits for review', () =>
    expect(given(raised).mayProcess({ purpose: RECORDING, at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'objection-pending-review' }));

  it('stops the processing when upheld', () =>
    expect(given(raised, objectionReviewed({ target: RECORDING, outcome: 'upheld', occurredAt: '2024-05-10T00:00:00Z' })).mayProcess({ purpose: RECORDING, at: JUNE_2024 })).toMatchObject({
      allowed: false,
      reason: 'objected',
    }));

  it('lets the processing resume when rejected, citing the review', () =>
    expect(given(raised, objectionReviewed({ target: RECORDING, outcome: 'rejected', occurredAt: '2024-05-10T00:00:00Z' })).mayProcess({ purpose: RECORDING, at: JUNE_2024 })).toEqual({
      allowed: true,
      reason: 'legitimate-interest',
      legalBasis: 'legitimate-interest',
      basedOn: [
        { eventId: 'event-0', revision: 0 },
        { eventId: 'event-1', revision: 1 },
      ],
      validUntil: null,
    }));
});

describe('restricted channels and opted-out sources', () => {
  it('deny only what uses the restricted channel', () => {
    const subject = given(relationshipStarted(), channelRestricted({ channel: 'sms' }));
    expect(subject.mayProcess({ purpose: CUSTOMER_MARKETING, channel: 'sms', at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'channel-restricted' });
    expect(subject.mayProcess({ purpose: CUSTOMER_MARKETING, channel: 'email', at: JUNE_2024 }).allowed).toBe(true);
    expect(subject.mayProcess({ purpose: CUSTOMER_MARKETING, at: JUNE_2024 }).allowed).toBe(true);
  });

  it('deny a channel restricted for one purpose only for that purpose', () => {
    const subject = given(relationshipStarted(), channelRestricted({ channel: 'sms', purpose: 'enjoy-loyalty-programme' }));
    expect(subject.mayProcess({ purpose: 'enjoy-loyalty-programme', channel: 'sms', at: JUNE_2024 }).reason).toBe('channel-restricted');
    expect(subject.mayProcess({ purpose: CUSTOMER_MARKETING, channel: 'sms', at: JUNE_2024 }).allowed).toBe(true);
  });

  it('do not stop what a contract needs, such as an invoice by SMS', () =>
    expect(given(relationshipStarted(), channelRestricted({ channel: 'sms' })).mayProcess({ purpose: 'billing-accounting', channel: 'sms', at: JUNE_2024 })).toMatchObject({
      allowed: true,
      reason: 'contract',
    }));

  // Found in review: "no marketing SMS" also stopped the SMS that carries a carrier-billing
  // subscription's details, and the STOP that cancels it.
  it('for every purpose, stop marketing, not a service the person may only object to with reasons', () => {
    const noSms = given(relationshipStarted(), channelRestricted({ channel: 'sms' }));
    expect(noSms.mayProcess({ purpose: 'direct-carrier-billing', channel: 'sms', at: JUNE_2024 })).toMatchObject({ allowed: true });
    const noBillingSms = given(relationshipStarted(), channelRestricted({ channel: 'sms', purpose: 'direct-carrier-billing' }));
    expect(noBillingSms.mayProcess({ purpose: 'direct-carrier-billing', channel: 'sms', at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'channel-restricted' });
  });

  // Found in review: push turned off in the app's settings also stopped the app's notifications
  // about invoices, and an SMS STOP invitations to market research; neither is marketing, though
  // the person may refuse both at will.
  it('for every purpose, stop marketing, not service notifications nor invitations to market research', () => {
    const noPushNorSms = given(relationshipStarted(), channelRestricted({ channel: 'push' }), channelRestricted({ channel: 'sms' }));
    expect(noPushNorSms.mayProcess({ purpose: 'myproximus-app-service-notifications', channel: 'push', at: JUNE_2024 })).toMatchObject({ allowed: true });
    expect(noPushNorSms.mayProcess({ purpose: 'market-research-invitations', channel: 'sms', at: JUNE_2024 })).toMatchObject({ allowed: true });
    expect(noPushNorSms.mayProcess({ purpose: 'myproximus-app-notifications', channel: 'push', at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'channel-restricted' });
    expect(noPushNorSms.mayProcess({ purpose: 'enjoy-loyalty-programme', channel: 'sms', at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'channel-restricted' });
    const noResearchSms = given(relationshipStarted(), channelRestricted({ channel: 'sms', purpose: 'market-research-invitations' }));
    expect(noResearchSms.mayProcess({ purpose: 'market-research-invitations', channel: 'sms', at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'channel-restricted' });
  });

  it('deny only profiling that uses the opted-out source', () => {
    const subject = given(relationshipStarted(), consentGiven({ purpose: PROFILING }), sourceOptedOut({ source: 'tv-viewing' }));
    expect(subject.mayProcess({ purpose: PROFILING, source: 'tv-viewing', at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'source-opted-out' });
    expect(subject.mayProcess({ purpose: PROFILING, source: 'web-app-usage', at: JUNE_2024 }).allowed).toBe(true);
  });

  // Found in review: asked without a source, profiling stayed allowed with every source opted out.
  it('deny a purpose asked without a source once the person opted out of every source it draws on, citing the opt-outs', () => {
    const segmentation = 'customer-segmentation-basic-legitimate-interest';
    const optedOut = given(relationshipStarted(), sourceOptedOut({ source: 'loyalty-participation' }), sourceOptedOut({ source: 'survey-answers', purpose: segmentation }));
    expect(optedOut.mayProcess({ purpose: segmentation, at: JUNE_2024 })).toEqual({
      allowed: false,
      reason: 'source-opted-out',
      legalBasis: 'legitimate-interest',
      basedOn: [{ eventId: 'event-1', revision: 1 }, { eventId: 'event-2', revision: 2 }],
      validUntil: null,
    });
    const oneLeft = given(relationshipStarted(), sourceOptedOut({ source: 'loyalty-participation' }));
    expect(oneLeft.mayProcess({ purpose: segmentation, at: JUNE_2024 })).toMatchObject({ allowed: true, reason: 'legitimate-interest' });
  });
});

describe("one subject's question that names no source", () => {
  const PROFILING_SOURCES = ['tv-viewing', 'web-app-usage', 'communications-usage', 'device-data', 'loyalty-participation', 'survey-answers'];

  it('lists the sources the purpose may draw on: its own, less those the person opted out of for every purpose or for this one', () => {
    const subject = given(
      relationshipStarted(),
      consentGiven({ purpose: PROFILING }),
      sourceOptedOut({ source: 'tv-viewing' }),
      sourceOptedOut({ source: 'survey-answers', purpose: PROFILING }),
      sourceOptedOut({ source: 'device-data', purpose: 'customer-segmentation-basic-legitimate-interest' }),
    );
    expect(subject.decisionForOneSubject({ purpose: PROFILING, at: JUNE_2024 })).toEqual({
      ...subject.mayProcess({ purpose: PROFILING, at: JUNE_2024 }),
      sources: ['web-app-usage', 'communications-usage', 'device-data', 'loyalty-participation'],
    });
    expect(given(relationshipStarted(), consentGiven({ purpose: PROFILING })).decisionForOneSubject({ purpose: PROFILING, at: JUNE_2024 })).toMatchObject({
      allowed: true,
      sources: PROFILING_SOURCES,
    });
  });

  it('lists none when the answer is no', () => {
    const segmentation = 'customer-segmentation-basic-legitimate-interest';
    const everyOneOptedOut = given(relationshipStarted(), sourceOptedOut({ source: 'loyalty-participation' }), sourceOptedOut({ source: 'survey-answers' }));
    expect(everyOneOptedOut.decisionForOneSubject({ purpose: segmentation, at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'source-opted-out', sources: [] });
    expect(given(relationshipStarted()).decisionForOneSubject({ purpose: PROFILING, at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'no-consent', sources: [] });
  });

  it('says nothing of sources when asked with one, or for a purpose that draws on none', () => {
    const subject = given(relationshipStarted(), consentGiven({ purpose: PROFILING }), sourceOptedOut({ source: 'tv-viewing' }));
    expect(subject.decisionForOneSubject({ purpose: PROFILING, source: 'web-app-usage', at: JUNE_2024 })).not.toHaveProperty('sources');
    expect(subject.decisionForOneSubject({ purpose: CUSTOMER_MARKETING, at: JUNE_2024 })).not.toHaveProperty('sources');
  });

  // Preferences, the state topic and rm_decisions are built from mayProcess's answer.
  it('leaves the answer preferences are built from as it was', () =>
    expect(given(relationshipStarted(), consentGiven({ purpose: PROFILING })).mayProcess({ purpose: PROFILING, at: JUNE_2024 })).not.toHaveProperty('sources'));
});

describe('a question that names no channel', () => {
  it('lists the channels the person may be reached on: those the consent covers, less the restricted ones', () => {
    const subject = given(consentGiven({ purpose: PROSPECTING, channels: ['phone', 'email', 'sms'] }), channelRestricted({ channel: 'phone' }));
    expect(subject.mayProcess({ purpose: PROSPECTING, at: JUNE_2024 })).toMatchObject({ allowed: true, reason: 'consent-active', channels: ['email', 'sms'] });
  });

  it('is denied when the person restricted every channel the consent covers, citing the restriction', () =>
    expect(given(consentGiven({ purpose: PROSPECTING, channels: ['email'] }), channelRestricted({ channel: 'email' })).mayProcess({ purpose: PROSPECTING, at: JUNE_2024 })).toEqual({
      allowed: false,
      reason: 'channel-restricted',
      legalBasis: 'consent',
      basedOn: [{ eventId: 'event-1', revision: 1 }],
      validUntil: null,
      channels: [],
    }));

  it('holds as long as the grants of the reachable channels, not one for a channel restricted since', () => {
    const subject = given(
      consentGiven({ purpose: PROSPECTING, channels: ['email'] }),
      consentGiven({ purpose: PROSPECTING, channels: ['sms'], expiresAt: instant('2027-05-01T09:00:00Z') }),
      channelRestricted({ channel: 'email', purpose: PROSPECTING }),
    );
    expect(subject.mayProcess({ purpose: PROSPECTING, at: JUNE_2024 })).toMatchObject({
      allowed: true,
      channels: ['sms'],
      basedOn: [{ eventId: 'event-1', revision: 1 }],
      validUntil: '2027-05-01T09:00:00.000Z',
    });
  });

  it('names the channels a renewal campaign consent reopened for a former customer, valid as long as theirs', () => {
    const subject = given(
      relationshipStarted(),
      relationshipEnded({ occurredAt: '2025-01-31T10:00:00Z' }),
      consentGiven({ purpose: RENEWAL, channels: ['email'], occurredAt: '2029-12-01T10:00:00Z', expiresAt: instant('2032-12-01T10:00:00Z') }),
      consentGiven({ purpose: RENEWAL, channels: ['sms'], occurredAt: '2030-06-01T10:00:00Z', expiresAt: instant('2033-06-01T10:00:00Z') }),
      channelRestricted({ channel: 'sms', occurredAt: '2030-07-01T10:00:00Z' }),
    );
    expect(subject.mayProcess({ purpose: CUSTOMER_MARKETING, at: '2031-01-01T00:00:00Z' })).toEqual({
      allowed: true,
      reason: 'consent-active',
      legalBasis: 'consent',
      basedOn: [
        { eventId: 'event-1', revision: 1 },
        { eventId: 'event-2', revision: 2 },
      ],
      validUntil: '2032-12-01T10:00:00.000Z',
      channels: ['email'],
    });
  });

  // Found in review: it held until the last grant ran out, so a tool caching the answer kept
  // sending e-mail after the e-mail consent had ended.
  it('holds until the first reachable channel\'s consent runs out, when the list of channels changes', () => {
    const subject = given(
      consentGiven({ purpose: PROSPECTING, channels: ['email'], expiresAt: instant('2025-01-01T00:00:00Z') }),
      consentGiven({ purpose: PROSPECTING, channels: ['post'], expiresAt: instant('2027-01-01T00:00:00Z') }),
    );
    expect(subject.mayProcess({ purpose: PROSPECTING, at: JUNE_2024 })).toMatchObject({ channels: ['email', 'post'], validUntil: '2025-01-01T00:00:00.000Z' });
    expect(subject.mayProcess({ purpose: PROSPECTING, at: '2025-06-01T00:00:00Z' })).toMatchObject({ channels: ['post'], validUntil: '2027-01-01T00:00:00.000Z' });
  });

  it('names every channel of a legitimate interest the person did not restrict', () => {
    const restricting = (...channels: Channel[]) => channels.map((channel) => channelRestricted({ channel }));
    const subject = given(relationshipStarted(), ...restricting('sms', 'post'));
    expect(subject.mayProcess({ purpose: CUSTOMER_MARKETING, at: JUNE_2024 })).toMatchObject({ allowed: true, channels: ['phone', 'email'] });
    const unreachable = given(relationshipStarted(), ...restricting('sms', 'post', 'phone', 'email'));
    expect(unreachable.mayProcess({ purpose: CUSTOMER_MARKETING, at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'channel-restricted', channels: [] });
  });

  it('keeps every channel a contract needs whatever the person restricted', () =>
    expect(given(relationshipStarted(), channelRestricted({ channel: 'sms' })).mayProcess({ purpose: 'billing-accounting', at: JUNE_2024 }).channels).toEqual(['post', 'email', 'sms']));

  it('lists no channel when denied, and none is asked about when a channel is named', () => {
    const subject = given(relationshipStarted());
    expect(subject.mayProcess({ purpose: PROSPECTING, at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'no-consent', channels: [] });
    expect(subject.mayProcess({ purpose: CUSTOMER_MARKETING, channel: 'email', at: JUNE_2024 })).not.toHaveProperty('channels');
  });
});

describe('channels and data sources a purpose does not use', () => {
  it('deny a channel the purpose does not contact people on', () => {
    const customer = given(relationshipStarted());
    expect(customer.mayProcess({ purpose: 'group-subsidiaries-phone-marketing-sharing', channel: 'email', at: JUNE_2024 })).toMatchObject({
      allowed: false,
      reason: 'channel-not-used-by-purpose',
      legalBasis: 'legitimate-interest',
    });
    expect(customer.mayProcess({ purpose: 'group-subsidiaries-phone-marketing-sharing', channel: 'phone', at: JUNE_2024 }).allowed).toBe(true);
    expect(customer.mayProcess({ purpose: CUSTOMER_MARKETING, channel: 'push', at: JUNE_2024 }).reason).toBe('channel-not-used-by-purpose');
  });

  it('deny a data source the purpose may not use, such as TV viewing for segmentation on legitimate interest', () => {
    const customer = given(relationshipStarted());
    expect(customer.mayProcess({ purpose: 'customer-segmentation-basic-legitimate-interest', source: 'tv-viewing', at: JUNE_2024 })).toMatchObject({
      allowed: false,
      reason: 'source-not-used-by-purpose',
    });
    expect(customer.mayProcess({ purpose: 'customer-segmentation-basic-legitimate-interest', source: 'survey-answers', at: JUNE_2024 }).allowed).toBe(true);
  });

  // Found by a DPO review: 9.4's promotional campaigns listed TV viewing, so a customer's viewing
  // fed e-mail and post marketing on legitimate interest, without the consent §4.4 asks for.
  it('do not make Pickx promotional campaigns depend on TV viewing, which needs profiling consent', () =>
    expect(given(relationshipStarted(), sourceOptedOut({ source: 'tv-viewing' })).mayProcess({ purpose: 'pickx-promotional-campaigns', channel: 'email', at: JUNE_2024 })).toMatchObject({
      allowed: true,
      reason: 'legitimate-interest',
    }));

  // Found in review: the purpose names no data source so that it draws on no TV viewing, and a
  // question naming TV viewing was allowed.
  it('deny marketing that names no data source any, as Pickx promotional campaigns TV viewing', () => {
    const customer = given(relationshipStarted());
    expect(customer.mayProcess({ purpose: 'pickx-promotional-campaigns', source: 'tv-viewing', at: JUNE_2024 })).toMatchObject({
      allowed: false,
      reason: 'source-not-used-by-purpose',
      legalBasis: 'legitimate-interest',
    });
    expect(customer.mayProcess({ purpose: 'pickx-promotional-campaigns', source: 'communications-usage', at: JUNE_2024 }).reason).toBe('source-not-used-by-purpose');
  });

  it('leave a purpose other than marketing that names no data source unlimited, as TV viewing statistics', () =>
    expect(given(relationshipStarted()).mayProcess({ purpose: 'pickx-viewing-statistics-reporting', source: 'tv-viewing', at: JUNE_2024 }).allowed).toBe(true));

  it('leave a purpose for which the statement names no channel unlimited', () =>
    expect(given(relationshipStarted()).mayProcess({ purpose: 'myproximus-app-functioning', channel: 'email', at: JUNE_2024 }).allowed).toBe(true));
});

describe('brands and erasure', () => {
  it('answers that a purpose does not apply to Scarlet customers', () =>
    expect(given(relationshipStarted({ brand: 'scarlet' })).mayProcess({ purpose: 'enjoy-loyalty-programme', brand: 'scarlet', at: JUNE_2024 })).toMatchObject({
      allowed: false,
      reason: 'not-applicable-to-brand',
    }));

  // Found by a DPO review: a consent recorded without a brand (a cookie manager on proximus.be)
  // made Ads & Data allowed for a Scarlet-only customer, whom 7.2.3.2 excludes.
  describe('a purpose that does not apply to the brand of every contract the subject has', () => {
    const ADS_AND_DATA = 'targeted-web-app-advertising-ads-and-data';
    const consentedOnProximusBe = consentGiven({ purpose: ADS_AND_DATA, channels: ['online-ads'], capture: { touchpoint: 'cookie-manager' } });

    it('is denied for a Scarlet-only customer whichever brand the consent or the question names, on the Scarlet contract', () => {
      const subject = given(relationshipStarted({ brand: 'scarlet' }), consentedOnProximusBe);
      for (const brand of [undefined, 'proximus'] as const) {
        expect(subject.mayProcess({ purpose: ADS_AND_DATA, channel: 'online-ads', brand, at: JUNE_2024 })).toEqual({
          allowed: false,
          reason: 'not-applicable-to-brand',
          legalBasis: 'consent',
          basedOn: [{ eventId: 'event-0', revision: 0 }],
          validUntil: null,
        });
      }
      expect(subject.mayProcess({ purpose: ADS_AND_DATA, at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'not-applicable-to-brand', channels: [] });
    });

    it('is denied for a Scarlet-only customer on legitimate interest too, such as the loyalty programme', () =>
      expect(given(relationshipStarted({ brand: 'scarlet' })).mayProcess({ purpose: 'enjoy-loyalty-programme', brand: 'proximus', at: JUNE_2024 })).toMatchObject({
        allowed: false,
        reason: 'not-applicable-to-brand',
      }));

    it('keeps the answer for a Scarlet customer who is also a Proximus customer', () =>
      expect(given(relationshipStarted({ brand: 'scarlet' }), relationshipStarted({ brand: 'proximus' }), consentedOnProximusBe).mayProcess({ purpose: ADS_AND_DATA, at: JUNE_2024 })).toMatchObject({
        allowed: true,
        reason: 'consent-active',
      }));

    it('keeps the answer for a former Scarlet customer and for someone with no relationship, who may be visitors', () => {
      const formerScarlet = given(relationshipStarted({ brand: 'scarlet', occurredAt: '2020-01-01T00:00:00Z' }), relationshipEnded({ brand: 'scarlet', occurredAt: '2024-05-01T00:00:00Z' }), consentedOnProximusBe);
      expect(formerScarlet.mayProcess({ purpose: ADS_AND_DATA, at: JUNE_2024 })).toMatchObject({ allowed: true, reason: 'consent-active' });
      expect(given(consentedOnProximusBe).mayProcess({ purpose: ADS_AND_DATA, at: JUNE_2024 })).toMatchObject({ allowed: true, reason: 'consent-active' });
    });

    it('leaves purposes that apply to every brand alone', () =>
      expect(given(relationshipStarted({ brand: 'scarlet' })).mayProcess({ purpose: 'market-research-invitations', at: JUNE_2024 })).toMatchObject({ allowed: true }));
  });

  it('keeps what the law makes us keep and what legal claims need after erasure, each within its own window', () => {
    const erased = given(relationshipStarted(), relationshipEnded({ occurredAt: '2024-05-10T00:00:00Z' }), subjectErased({ occurredAt: '2024-05-20T00:00:00Z' }));
    expect(erased.mayProcess({ purpose: 'billing-accounting', at: JUNE_2024 })).toMatchObject({ allowed: true, reason: 'contract', validUntil: '2031-05-10T00:00:00.000Z' });
    expect(erased.mayProcess({ purpose: 'billing-accounting', at: '2031-05-10T00:00:00Z' })).toMatchObject({ allowed: false, reason: 'retention-window-ended' });
    for (const purpose of ['debt-collection', 'dispute-management-and-proof-of-consent', 'archiving-legal-defence']) {
      expect({ purpose, ...erased.mayProcess({ purpose, at: JUNE_2024 }) }).toMatchObject({ purpose, allowed: true });
    }
    expect(erased.mayProcess({ purpose: CUSTOMER_MARKETING, at: JUNE_2024 })).toMatchObject({ allowed: false, reason: 'subject-erased' });
  });

  it('denies everything else after erasure, on the erasure event', () =>
    expect(given(relationshipStarted(), consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] }), subjectErased({ occurredAt: '2024-05-20T00:00:00Z' })).mayProcess({ purpose: TV_ADS, at: JUNE_2024 })).toMatchObject({
      allowed: false,
      reason: 'subject-erased',
      basedOn: [{ eventId: 'event-2', revision: 2 }],
    }));
});

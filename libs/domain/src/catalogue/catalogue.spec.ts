import proximus from '../../../../catalogues/proximus.json';
import { type CatalogueProblem, CatalogueInvalid, loadCatalogue, purposesReachedBy } from './catalogue';

/** The number of rows in §1 of the Proximus purposes digest (privacy statement of 27 February 2024). */
const PROXIMUS_PURPOSE_COUNT = 71;

const catalogue = loadCatalogue(proximus);
const purposes = [...catalogue.purposes.values()];
const purpose = (id: string) => {
  const found = catalogue.purposes.get(id);
  if (!found) throw new Error(`no purpose "${id}" in the Proximus catalogue`);
  return found;
};
const directMarketing = purposesReachedBy(catalogue, 'direct-marketing');

/** A different operator's catalogue, written from scratch: two purposes, one group. */
const otherOperator = () => ({
  catalogueVersion: 'voorbeeld-nl-2025-01-15.1',
  noticeVersion: '2025-01-15',
  jurisdiction: 'NL',
  controller: {
    id: 'voorbeeld',
    name: 'Voorbeeld Telecom BV',
    address: 'Stationsplein 1, 3511 ED Utrecht',
    contact: 'privacy@voorbeeld.example',
  },
  jointControllers: [],
  proofRetention: 'P5Y',
  groups: [
    {
      id: 'marketing',
      name: 'Marketing',
      description: 'Objecting to marketing needs no reason.',
      objection: 'free',
      members: ['newsletter'],
    },
  ],
  purposes: [
    {
      id: 'newsletter',
      section: '4.1',
      name: 'Monthly newsletter',
      description: 'A monthly e-mail about new offers.',
      category: 'direct-marketing',
      legalBasis: 'consent',
      otherLegalBases: [],
      legalBasisStated: true,
      objection: 'free',
      audience: ['prospect', 'customer'],
      channels: ['email'],
      sources: [],
      excludedBrands: [],
      consentValidity: 'P2Y',
      retention: '2 years from consent',
      recipients: ['E-mail provider'],
      jointControllers: [],
      withdrawal: 'Unsubscribe link in every e-mail',
      role: 'controller',
      lines: 'p. 4',
    },
    {
      id: 'mobile-service',
      section: '3.1',
      name: 'Mobile service',
      description: 'Calls, SMS and data on the mobile network.',
      category: 'service-provision',
      legalBasis: 'contract',
      otherLegalBases: [],
      legalBasisStated: true,
      objection: 'none',
      audience: ['customer'],
      channels: [],
      sources: [],
      excludedBrands: [],
      retention: 'For the contract',
      recipients: [],
      jointControllers: [],
      withdrawal: 'Cannot be objected to',
      role: 'controller',
      lines: 'p. 3',
    },
  ],
});

type Editable = ReturnType<typeof otherOperator> & { purposes: Record<string, unknown>[] };

/** The other operator's catalogue with `edit` applied to a fresh copy. */
const otherOperatorWith = (edit: (catalogue: Editable) => void): unknown => {
  const copy = otherOperator() as Editable;
  edit(copy);
  return copy;
};

function problemsOf(json: unknown): readonly CatalogueProblem[] {
  try {
    loadCatalogue(json);
  } catch (error) {
    if (error instanceof CatalogueInvalid) return error.problems;
    throw error;
  }
  throw new Error('expected the catalogue to be refused');
}

describe('the Proximus catalogue', () => {
  it('loads with every purpose of the privacy statement', () => {
    expect(catalogue.purposes.size).toBe(PROXIMUS_PURPOSE_COUNT);
    expect(catalogue.definition.noticeVersion).toBe('2024-02-27');
    expect(catalogue.definition.jurisdiction).toBe('BE');
  });

  it('holds the purposes an auditor looks up first, under the ids of the statement digest', () => {
    const spotChecks = [
      'group-subsidiaries-phone-marketing-sharing',
      'security-cctv',
      'contract-conclusion-identity-verification',
      'market-research-invitations',
      'market-research-participation',
      'art125-ibpt-missing-persons',
      'directory-listing-professional-activity',
      'location-analytics-anonymous-reports',
      'prospect-contact-collection-events',
      'best-tariff-plan-consumption-profiling',
      'targeted-tv-advertising-pickx',
      'former-customer-consent-renewal-campaign',
      'former-customer-winback',
      'family-life-location-sharing',
      'pickx-portability-residence-check',
      'advertising-cookie-sharing-dmp-partners',
    ];
    for (const id of spotChecks) expect(catalogue.purposes.has(id)).toBe(true);
  });

  it('gives every purpose its own id', () => {
    const ids = proximus.purposes.map((each) => each.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps Scarlet customers out of exactly the loyalty programme and the two web advertising purposes', () => {
    const withoutScarlet = purposes.filter((each) => each.excludedBrands.includes('scarlet')).map((each) => each.id);
    expect(withoutScarlet.sort()).toEqual([
      'enjoy-loyalty-programme',
      'targeted-web-app-advertising-ads-and-data',
      'targeted-web-app-advertising-proximus-ad-network',
    ]);
  });

  it('does not draw on TV viewing for Pickx promotional campaigns on legitimate interest (§4.4 asks consent for it)', () => {
    expect(purpose('pickx-promotional-campaigns')).toMatchObject({ legalBasis: 'legitimate-interest' });
    expect(purpose('pickx-promotional-campaigns').sources).not.toContain('tv-viewing');
  });

  it('does not let anyone object to best tariff plan profiling', () => {
    expect(purpose('best-tariff-plan-consumption-profiling')).toMatchObject({
      legalBasis: 'legal-obligation',
      objection: 'none',
    });
  });

  it('lets nobody object to a purpose the law requires', () => {
    const required = purposes.filter((each) => each.legalBasis === 'legal-obligation');
    expect(required.length).toBeGreaterThan(5);
    for (const each of required) expect({ id: each.id, objection: each.objection }).toEqual({ id: each.id, objection: 'none' });
  });

  it('lets a subject object to direct marketing without giving a reason', () => {
    expect(catalogue.groups.get('direct-marketing')?.objection).toBe('free');
  });

  it('reaches prospect, customer and former-customer marketing, targeted ads and linked profiling with a direct-marketing objection', () => {
    expect(directMarketing).toEqual(
      expect.arrayContaining([
        'group-subsidiaries-phone-marketing-sharing',
        'prospect-contact-collection-events',
        'b2b-data-acquisition-prospects-customers',
        'direct-marketing-prospects-phone-email',
        'indirect-sales-partner-prospecting',
        'newsletter-prospects',
        'customer-segmentation-basic-legitimate-interest',
        'customer-profiling-consent-based',
        'direct-marketing-customers-phone-email',
        'advertising-cookies-retargeting',
        'pickx-personalised-recommendations-promotion',
        'enjoy-loyalty-programme',
        'targeted-tv-advertising-pickx',
        'targeted-web-app-advertising-proximus-ad-network',
        'former-customer-consent-renewal-campaign',
        'former-customer-winback',
        'pickx-promotional-campaigns',
        'advertising-cookie-sharing-dmp-partners',
        'myproximus-app-notifications',
      ]),
    );
  });

  it('does not reach market research, anonymous analytics or best tariff advice with a direct-marketing objection', () => {
    for (const id of [
      'market-research-invitations',
      'location-analytics-anonymous-reports',
      'market-analysis-anonymous-insights',
      'best-tariff-plan-consumption-profiling',
      'myproximus-app-service-notifications',
    ]) {
      expect(directMarketing).not.toContain(id);
    }
  });

  it('keeps every legal-obligation and contract purpose out of the direct-marketing group', () => {
    const unobjectable = directMarketing.filter((id) => ['legal-obligation', 'contract'].includes(purpose(id).legalBasis));
    expect(unobjectable).toEqual([]);
  });

  it('never markets to prospects on legitimate interest alone', () => {
    const prospectMarketing = directMarketing
      .map(purpose)
      .filter((each) => each.legalBasis === 'legitimate-interest' && each.audience.includes('prospect'));
    expect(prospectMarketing).toEqual([]);
  });

  it('keeps prospect consents for 3 years', () => {
    for (const id of ['prospect-contact-collection-events', 'prospect-data-acquisition-residential', 'direct-marketing-prospects-phone-email', 'newsletter-prospects']) {
      expect({ id, validity: purpose(id).consentValidity }).toEqual({ id, validity: 'P3Y' });
    }
  });

  it('keeps marketing to former customers on legitimate interest for 5 years after the relationship ends', () => {
    for (const id of [
      'customer-segmentation-basic-legitimate-interest',
      'direct-marketing-customers-phone-email',
      'online-advertising-social-media',
      'newsletter-customers',
      'former-customer-winback',
      'myproximus-app-notifications',
    ]) {
      expect({ id, basis: purpose(id).legalBasis, window: purpose(id).formerCustomerWindow }).toEqual({
        id,
        basis: 'legitimate-interest',
        window: 'P5Y',
      });
      expect(purpose(id).audience).toContain('former-customer');
    }
  });

  it('reopens marketing to a former customer who renews consent for 3 years', () => {
    expect(purpose('former-customer-consent-renewal-campaign')).toMatchObject({
      legalBasis: 'consent',
      consentValidity: 'P3Y',
      audience: ['former-customer'],
    });
    expect(purpose('direct-marketing-customers-phone-email').renewedBy).toBe('former-customer-consent-renewal-campaign');
    expect(purpose('former-customer-winback').renewedBy).toBe('former-customer-consent-renewal-campaign');
  });

  it('keeps proof of a consent for 5 years beyond the consent by default', () => {
    expect(catalogue.definition.proofRetention).toBe('P5Y');
  });

  it('names Ads & Data and DPG Media as joint controllers of the targeted advertising they decide with Proximus', () => {
    expect(purpose('targeted-web-app-advertising-ads-and-data').jointControllers).toEqual(['ads-and-data']);
    expect(purpose('targeted-tv-advertising-pickx').jointControllers).toEqual(['dpg-media']);
  });
});

describe('loading a catalogue that breaks the rules', () => {
  it('refuses something that is not an object', () => {
    expect(problemsOf(['not', 'a', 'catalogue'])).toEqual([{ path: '$', message: 'must be an object' }]);
  });

  it('refuses an unknown legal basis', () => {
    const problems = problemsOf(otherOperatorWith((c) => (c.purposes[0].legalBasis = 'gut-feeling')));
    expect(problems).toContainEqual({
      path: '$.purposes[0].legalBasis',
      message: expect.stringContaining('must be one of consent, contract'),
    });
  });

  it('refuses an unknown channel', () => {
    const problems = problemsOf(otherOperatorWith((c) => (c.purposes[0].channels = ['email', 'carrier-pigeon'])));
    expect(problems).toEqual([{ path: '$.purposes[0].channels[1]', message: expect.stringContaining('(got "carrier-pigeon")') }]);
  });

  it('refuses two purposes with the same id', () => {
    const problems = problemsOf(otherOperatorWith((c) => (c.purposes[1].id = 'newsletter')));
    expect(problems).toEqual([{ path: '$.purposes[1].id', message: 'duplicate id "newsletter" (first at $.purposes[0])' }]);
  });

  it('refuses a group member that is not a purpose', () => {
    const problems = problemsOf(otherOperatorWith((c) => (c.groups[0].members = ['newsletter', 'telemarketing'])));
    expect(problems).toEqual([{ path: '$.groups[0].members', message: '"telemarketing" is not a purpose of this catalogue' }]);
  });

  it('refuses a consent validity on a legitimate-interest purpose', () => {
    const problems = problemsOf(otherOperatorWith((c) => (c.purposes[0].legalBasis = 'legitimate-interest')));
    expect(problems).toEqual([
      { path: '$.purposes[0].consentValidity', message: 'only consent-based purposes have a consent validity' },
    ]);
  });

  it('refuses a free objection to a purpose the law requires', () => {
    const problems = problemsOf(
      otherOperatorWith((c) => Object.assign(c.purposes[1], { legalBasis: 'legal-obligation', objection: 'free' })),
    );
    expect(problems).toEqual([
      {
        path: '$.purposes[1].objection',
        message: 'must be "none": processing based on legal-obligation cannot be objected to',
      },
    ]);
  });

  it('refuses a renewal by a purpose that is not consent-based', () => {
    const problems = problemsOf(
      otherOperatorWith((c) =>
        Object.assign(c.purposes[1], {
          audience: ['customer', 'former-customer'],
          formerCustomerWindow: 'P1Y',
          renewedBy: 'mobile-service',
        }),
      ),
    );
    expect(problems).toEqual([{ path: '$.purposes[1].renewedBy', message: 'must name a consent-based purpose' }]);
  });

  it('lists every problem at once, each with its path', () => {
    const problems = problemsOf(
      otherOperatorWith((c) => {
        c.purposes[0].channels = ['carrier-pigeon'];
        c.purposes[1].legalBasis = 'gut-feeling';
        c.purposes[1].id = 'newsletter';
        c.groups[0].members = ['telemarketing'];
      }),
    );
    expect(problems).toEqual([
      { path: '$.purposes[0].channels[0]', message: expect.stringContaining('(got "carrier-pigeon")') },
      { path: '$.purposes[1].id', message: 'duplicate id "newsletter" (first at $.purposes[0])' },
      { path: '$.purposes[1].legalBasis', message: expect.stringContaining('(got "gut-feeling")') },
      { path: '$.groups[0].members', message: '"telemarketing" is not a purpose of this catalogue' },
    ]);
  });
});

describe("another operator's catalogue", () => {
  it('loads without any code change', () => {
    const loaded = loadCatalogue(otherOperator());
    expect([...loaded.purposes.keys()]).toEqual(['newsletter', 'mobile-service']);
    expect(loaded.definition.controller.name).toBe('Voorbeeld Telecom BV');
    expect(purposesReachedBy(loaded, 'marketing')).toEqual(['newsletter']);
  });
});

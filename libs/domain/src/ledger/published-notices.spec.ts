import { loadCatalogue } from '../catalogue/catalogue';
import {
  catalogue,
  consentGiven,
  consentWithdrawn,
  givenIn,
  given,
  giveConsent,
  givenUnder,
  NOTICE,
  objectionRaised,
  objectTo,
  relationshipStarted,
  withdrawConsent,
} from '../testing';

const TV_ADS = 'targeted-tv-advertising-pickx';
const customer = relationshipStarted({ occurredAt: '2024-01-01T00:00:00Z' });

/** The operator's catalogue, naming the notices it published before the one it was read from. */
const withEarlierNotices = loadCatalogue({ ...catalogue.definition, earlierNoticeVersions: ['2022-05-25', '2023-09-01'] });

/** The catalogue the operator moved to after the shipped one: its notice is the only one it names. */
const nextCatalogue = loadCatalogue({ ...catalogue.definition, catalogueVersion: 'proximus-be-2026-12-01.1', noticeVersion: '2026-12-01' });

describe('the notice a command cites', () => {
  // Found in review: "2099-12-31", "v1" or a typo were recorded as the notice a person was shown.
  it('refuses a consent under a notice the operator never published, and records nothing', () =>
    given(customer).when(giveConsent({ purpose: TV_ADS, capture: { noticeVersion: '2099-12-31' } })).thenRejected('notice-version-unknown'));

  it('refuses a notice the catalogue knows only when written otherwise, as a channel would mistype it', () =>
    given(customer).when(giveConsent({ purpose: TV_ADS, capture: { noticeVersion: '27-02-2024' } })).thenRejected('notice-version-unknown'));

  // The person's word against processing is never turned away for the channel's typo: the
  // processing would go on meanwhile.
  it('records a withdrawal whatever notice it cites', () =>
    given(customer, consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] }))
      .when(withdrawConsent({ purpose: TV_ADS, occurredAt: '2024-07-01T08:00:00Z', capture: { noticeVersion: 'v1' } }))
      .then(consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-07-01T08:00:00Z', capture: { noticeVersion: 'v1' } })));

  it('records an objection whatever notice it cites', () =>
    given(customer)
      .when(objectTo({ purpose: 'direct-marketing', capture: { noticeVersion: 'v1' } }))
      .then(objectionRaised({ target: 'direct-marketing', capture: { noticeVersion: 'v1' } })));

  it('records a withdrawal that cites no notice, as before', () =>
    given(customer, consentGiven({ purpose: TV_ADS, channels: ['tv-screen'] }))
      .when(withdrawConsent({ purpose: TV_ADS, occurredAt: '2024-07-01T08:00:00Z' }))
      .then(consentWithdrawn({ purpose: TV_ADS, occurredAt: '2024-07-01T08:00:00Z' })));

  it('records an objection under the catalogue\'s own notice', () =>
    given(customer)
      .when(objectTo({ purpose: 'direct-marketing', capture: { noticeVersion: NOTICE } }))
      .then(objectionRaised({ target: 'direct-marketing', capture: { noticeVersion: NOTICE } })));

  it('still asks a consent citing no notice to name one', () =>
    given(customer).when(giveConsent({ purpose: TV_ADS, capture: { noticeVersion: undefined } })).thenRejected('notice-version-required'));

  // A consent migrated from the system before the ledger, or a paper form keyed in late.
  it('records a consent under a notice the operator published before, as the catalogue lists it', () =>
    givenUnder(withEarlierNotices, customer)
      .when(giveConsent({ purpose: TV_ADS, occurredAt: '2023-10-01T10:00:00Z', capture: { noticeVersion: '2023-09-01' } }))
      .then(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2023-10-01T10:00:00Z', capture: { noticeVersion: '2023-09-01' }, noticeVersion: '2023-09-01' })));

  it('refuses under the catalogue without the list a notice only the list names', () =>
    given(customer).when(giveConsent({ purpose: TV_ADS, capture: { noticeVersion: '2023-09-01' } })).thenRejected('notice-version-unknown'));

  // A deployment that moved to a new catalogue still receives paper signed under the previous one.
  it('records a consent under the notice of a catalogue kept in the log, which the catalogue in force no longer names', () =>
    givenIn({ catalogue: nextCatalogue, noticesInTheLog: new Set([NOTICE, '2026-12-01']) }, customer)
      .when(giveConsent({ purpose: TV_ADS, occurredAt: '2026-11-20T10:00:00Z', capture: { noticeVersion: NOTICE } }))
      .then(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2026-11-20T10:00:00Z' })));

  it('refuses under the new catalogue the previous notice when no catalogue in the log names it', () =>
    givenUnder(nextCatalogue, customer).when(giveConsent({ purpose: TV_ADS, capture: { noticeVersion: NOTICE } })).thenRejected('notice-version-unknown'));

  it('records late paperwork under a notice a purpose\'s change replaced, which the catalogue in force names only there', () => {
    const replacing = loadCatalogue({
      ...nextCatalogue.definition,
      purposes: catalogue.definition.purposes.map((purpose) => (purpose.id === TV_ADS ? { ...purpose, noticeChangedAt: '2026-12-01T00:00:00.000Z', replacedNoticeVersions: [NOTICE] } : purpose)),
    });
    givenUnder(replacing, customer)
      .when(giveConsent({ purpose: TV_ADS, occurredAt: '2026-11-20T10:00:00Z' }))
      .then(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], occurredAt: '2026-11-20T10:00:00Z' }));
  });
});

describe('a catalogue\'s earlier notices', () => {
  const withEarlier = (earlierNoticeVersions: unknown) => () => loadCatalogue({ ...catalogue.definition, earlierNoticeVersions });

  it('are versions as channels send them, other than the catalogue\'s own, each once', () => {
    expect(withEarlier(['2023-09-01', ' 2022-05-25'])).toThrow(/earlierNoticeVersions: must name versions as channels send them/);
    expect(withEarlier([''])).toThrow(/earlierNoticeVersions: must name versions, not empty text/);
    expect(withEarlier([NOTICE])).toThrow(/earlierNoticeVersions: .*is the catalogue's own notice/);
    expect(withEarlier(['2023-09-01', '2023-09-01'])).toThrow(/earlierNoticeVersions: must not repeat a version/);
    expect(withEarlier('2023-09-01')).toThrow(/earlierNoticeVersions: must be a list/);
    expect(withEarlier([20230901])).toThrow(/earlierNoticeVersions\[0\]: must be text/);
    expect(withEarlier(['2023-09-01'])()).toBeDefined();
  });
});

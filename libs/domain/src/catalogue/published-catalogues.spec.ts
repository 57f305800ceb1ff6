import { consentReceiptOf, type ProvenLedgerEvent } from '../receipts/consent-receipt';
import type { RecordedLedgerEvent } from '../ledger/events';
import { catalogue, consentGiven, giveConsent, givenUnder, objectionRaised, recorded } from '../testing';
import { type Catalogue, loadCatalogue } from './catalogue';
import { PublishedCatalogues } from './published-catalogues';

const TV_ADS = 'targeted-tv-advertising-pickx';

const proven = (event: RecordedLedgerEvent): ProvenLedgerEvent => ({
  ...event,
  chain: { streamName: 'consent-ledger-subject-1', position: '1', hash: 'h', previousHash: '0'.repeat(64), storedAt: event.data.capture.recordedAt },
});

/** The operator's catalogue as published: a reference the edge gave it, optionally edited first. */
function published(reference: string, edit: (definition: any) => void = () => undefined): Catalogue {
  const definition = structuredClone(catalogue.definition) as any;
  edit(definition);
  return { ...loadCatalogue(definition), reference };
}

/** The 2024 catalogue, then a 2026 one that rewords Pickx advertising and adds a data source to it. */
const of2024 = published('proximus-2024#aaaa');
const of2026 = published('proximus-2026#bbbb', (definition) => {
  definition.catalogueVersion = 'proximus-2026';
  definition.noticeVersion = '2026-11-01';
  const tvAds = definition.purposes.find((purpose: { id: string }) => purpose.id === TV_ADS);
  tvAds.description = 'Ads on Pickx chosen from your viewing and your location';
  tvAds.recipients = [...tvAds.recipients, 'a new ad partner'];
});

const receiptOf = (event: ReturnType<typeof consentGiven>, shelf: PublishedCatalogues) => {
  const [recordedEvent] = recorded([event]);
  return consentReceiptOf(proven(recordedEvent), [recordedEvent], shelf.current, shelf);
};

describe('the catalogue a choice was decided under', () => {
  it('is recorded with each event, once the edge has published it', () =>
    givenUnder(of2024)
      .when(giveConsent({ purpose: TV_ADS, channels: ['tv-screen'] }))
      .then(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], capture: { catalogue: 'proximus-2024#aaaa' } })));
});

describe('a receipt quotes the purposes as the person was told them', () => {
  const shelf = new PublishedCatalogues(of2026, [of2024]);

  it('from the catalogue recorded with the choice, after the catalogue changed', () => {
    const receipt = receiptOf(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], capture: { catalogue: 'proximus-2024#aaaa' } }), shelf);
    expect(receipt).toMatchObject({ catalogueVersion: catalogue.definition.catalogueVersion, termsFrom: 'recorded-catalogue' });
    expect(receipt.purposes[0]).toMatchObject({
      description: catalogue.purposes.get(TV_ADS)!.description,
      recipients: catalogue.purposes.get(TV_ADS)!.recipients,
    });
  });

  it('from the new catalogue for a choice made under it', () => {
    const receipt = receiptOf(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], noticeVersion: '2026-11-01', capture: { catalogue: 'proximus-2026#bbbb' } }), shelf);
    expect(receipt).toMatchObject({ catalogueVersion: 'proximus-2026', termsFrom: 'recorded-catalogue' });
    expect(receipt.purposes[0].description).toBe('Ads on Pickx chosen from your viewing and your location');
  });

  it('from the catalogue of the notice shown, for paperwork under the previous notice keyed in after the change', () => {
    const receipt = receiptOf(
      consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], noticeVersion: catalogue.definition.noticeVersion, capture: { catalogue: 'proximus-2026#bbbb' } }),
      shelf,
    );
    expect(receipt).toMatchObject({ catalogueVersion: catalogue.definition.catalogueVersion, termsFrom: 'same-notice-catalogue' });
    expect(receipt.purposes[0]).toMatchObject({
      description: catalogue.purposes.get(TV_ADS)!.description,
      recipients: catalogue.purposes.get(TV_ADS)!.recipients,
    });
  });

  it('from the latest catalogue of the notice shown, for a choice recorded before catalogues were kept', () => {
    const receipt = receiptOf(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], noticeVersion: catalogue.definition.noticeVersion }), shelf);
    expect(receipt).toMatchObject({ catalogueVersion: catalogue.definition.catalogueVersion, termsFrom: 'same-notice-catalogue' });
    expect(receipt.purposes[0].description).toBe(catalogue.purposes.get(TV_ADS)!.description);
  });

  it("from today's catalogue, and says so, when nothing tells which the person saw", () => {
    const [objection] = recorded([objectionRaised({ target: 'direct-marketing' })]);
    const receipt = consentReceiptOf(proven(objection), [objection], shelf.current, shelf);
    expect(receipt).toMatchObject({ catalogueVersion: 'proximus-2026', termsFrom: 'current-catalogue' });
  });

  it('keeps proof for as long as the rules in force say, whatever the wording quoted', () => {
    const longerProof = new PublishedCatalogues(published('proximus-2027#cccc', (definition) => {
      definition.catalogueVersion = 'proximus-2027';
      definition.proofRetention = 'P10Y';
    }), [of2024]);
    const receipt = receiptOf(consentGiven({ purpose: TV_ADS, channels: ['tv-screen'], capture: { catalogue: 'proximus-2024#aaaa' } }), longerProof);
    expect(receipt.termsFrom).toBe('recorded-catalogue');
    expect(receipt.purposes[0].retention.proof).toBe('P10Y');
  });
});

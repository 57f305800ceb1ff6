import { loadCatalogue } from '@consent-ledger/domain';
import proximus from '../../../catalogues/proximus.json';
import { catalogueRulesOf } from './catalogue-rules';

const PICKX = 'targeted-tv-advertising-pickx';

/** The shipped catalogue with one purpose edited. */
function edited(edit: (purpose: Record<string, unknown>) => void, version = proximus.catalogueVersion) {
  const definition = structuredClone(proximus) as typeof proximus;
  edit(definition.purposes.find((purpose) => purpose.id === PICKX) as unknown as Record<string, unknown>);
  return catalogueRulesOf(loadCatalogue({ ...definition, catalogueVersion: version }));
}

describe('the catalogue rules the read models follow', () => {
  const shipped = catalogueRulesOf(loadCatalogue(proximus));

  it('change with anything that decides: its channels, audience or brands', () => {
    expect(edited((purpose) => (purpose.channels = ['tv-screen', 'email'])).digest).not.toBe(shipped.digest);
    expect(edited((purpose) => (purpose.audience = ['customer', 'former-customer'])).digest).not.toBe(shipped.digest);
    expect(edited((purpose) => (purpose.excludedBrands = ['scarlet'])).digest).not.toBe(shipped.digest);
  });

  // Found in review: in a rolling upgrade to a version that decides differently, the instance still
  // on the old version rebuilt the tables the new one had emptied, under its old rules, for good.
  it('change with the rules of the code that decides', () => {
    expect(catalogueRulesOf(loadCatalogue(proximus), 9).digest).not.toBe(shipped.digest);
  });

  // A rebuild at national scale takes hours and republishes every subject: not for a typo.
  it('stay the same when only the wording or the version label changes', () => {
    const reworded = edited((purpose) => {
      purpose.description = 'Reworded.';
      purpose.name = 'Renamed';
      purpose.note = 'A new note.';
    }, `${proximus.catalogueVersion}-reworded`);
    expect(reworded).toEqual({ version: `${proximus.catalogueVersion}-reworded`, digest: shipped.digest });
  });

  // Which notices commands may cite is checked when they are decided; no recorded choice reads otherwise.
  it('stay the same when the catalogue lists the notices the operator published before', () => {
    expect(catalogueRulesOf(loadCatalogue({ ...proximus, earlierNoticeVersions: ['2023-09-01'] })).digest).toBe(shipped.digest);
  });
});

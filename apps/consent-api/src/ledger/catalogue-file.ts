/** The injection token of the purpose catalogue (a domain value, not a class). */
export const CATALOGUE = Symbol('Catalogue');

export { loadCatalogueFile } from '@consent-ledger/deployment';

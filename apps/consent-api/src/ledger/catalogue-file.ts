import { readFileSync } from 'node:fs';
import { type Catalogue, loadCatalogue } from '@consent-ledger/domain';

/** The injection token of the purpose catalogue (a domain value, not a class). */
export const CATALOGUE = Symbol('Catalogue');

export function loadCatalogueFile(file: string): Catalogue {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the purpose catalogue ${file} (set CATALOGUE_FILE): ${(error as Error).message}`);
  }
  return loadCatalogue(json);
}

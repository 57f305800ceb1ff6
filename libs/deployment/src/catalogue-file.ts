import { readFileSync } from 'node:fs';
import { type Catalogue, CatalogueInvalid, loadCatalogue } from '@consent-ledger/domain';
import { ConfigInvalid } from './environment';

/**
 * The purpose catalogue CATALOGUE_FILE names, or ConfigInvalid listing why not: a file missing or
 * wrong is a setting to fix, not a crash a supervisor should restart for ever, so the API and the
 * projector exit with the configuration exit code for it, as for any variable they cannot read.
 */
export function loadCatalogueFile(file: string): Catalogue {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigInvalid([`cannot read ${file} (set CATALOGUE_FILE): ${(error as Error).message}`], 'purpose catalogue');
  }
  try {
    return loadCatalogue(json);
  } catch (error) {
    if (!(error instanceof CatalogueInvalid)) throw error;
    throw new ConfigInvalid(error.problems.map((problem) => `${problem.path}: ${problem.message}`), `purpose catalogue ${file}`);
  }
}

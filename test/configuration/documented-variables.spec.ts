import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditConfigFrom } from '../../apps/consent-api/src/audit/audit-config';
import { readConfig } from '../../apps/consent-api/src/config';
import { readProjectorConfig } from '../../apps/projector/src/config';

/**
 * The README's configuration tables, and api.md's for the API, are what an operator sets a
 * deployment from. Each variable the API or the projector reads must be there, and each one there
 * must be read: NODE_ENV, which makes MASTER_KEY required, was read and listed in neither, and
 * api.md lacked the answer timeout and LOG_FORMAT (found in review). The auditor CLI reads a few
 * of the API's, which the README's section on it names.
 */
describe('the README configuration tables', () => {
  const listed = variablesInTables('README.md', 'Running the production shape');

  it('list every environment variable the API and the projector read', () => {
    const read = [...variablesReadBy(readConfig), ...variablesReadBy(readProjectorConfig)];
    expect([...new Set(read)].filter((name) => !listed.has(name)).sort()).toEqual([]);
  });

  it('list only variables the API or the projector read', () => {
    const read = new Set([...variablesReadBy(readConfig), ...variablesReadBy(readProjectorConfig)]);
    expect([...listed].filter((name) => !read.has(name)).sort()).toEqual([]);
  });
});

describe("the README's section on the auditor CLI", () => {
  it('names each environment variable the CLI reads, the master key its export opens personal data with included', () => {
    const section = sectionOf('README.md', 'Auditors and data-subject rights');
    const read = variablesReadBy((env) => {
      const config = auditConfigFrom(env, '/nonexistent');
      // Reads MASTER_KEY, then finds no key store in that DATA_DIR.
      expect(() => config.vault()).toThrow('no key store');
    });
    expect(read).toContain('MASTER_KEY');
    expect([...new Set(read)].filter((name) => !section.includes(`\`${name}\``)).sort()).toEqual([]);
  });
});

describe("api.md's configuration table", () => {
  it('lists exactly the variables the API reads', () => {
    const listed = variablesInTables('docs/api.md', 'Running it');
    const read = new Set(variablesReadBy(readConfig));
    expect({ unlisted: [...read].filter((name) => !listed.has(name)).sort(), notRead: [...listed].filter((name) => !read.has(name)).sort() }).toEqual({ unlisted: [], notRead: [] });
  });
});

/** The names in the first column of every table of a section (`## <heading>`) of a document. */
function variablesInTables(document: string, heading: string): Set<string> {
  const names = new Set<string>();
  for (const row of sectionOf(document, heading).split('\n').filter((line) => line.startsWith('| `'))) {
    const firstCell = row.split('|')[1];
    for (const [, name] of firstCell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(name);
  }
  return names;
}

/** The text of a section (`## <heading>`) of a document, up to the next. */
function sectionOf(document: string, heading: string): string {
  const text = readFileSync(join(__dirname, '../..', document), 'utf8');
  const section = text.split(/^## /m).find((part) => part.startsWith(heading));
  if (section === undefined) throw new Error(`${document} has no section "${heading}"`);
  return section;
}

/**
 * Every name a configuration reader looks up, whatever it finds, given a valid production
 * configuration: the lookups only production makes are made, and none is skipped by a refusal.
 */
function variablesReadBy(read: (env: NodeJS.ProcessEnv) => unknown): string[] {
  const secret = Buffer.alloc(32, 7).toString('base64');
  const names: string[] = [];
  const env = new Proxy<NodeJS.ProcessEnv>(
    { NODE_ENV: 'production', MASTER_KEY: secret, ADS_AND_DATA_KEY: secret, KAFKA_BROKERS: 'kafka:9092' },
    {
      get(target, name) {
        if (typeof name === 'string') names.push(name);
        return target[name as string];
      },
    },
  );
  read(env);
  return names;
}

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestSchema, type TestSchema } from '../../../../test/support/services';
import type { ApiConfig } from '../config';
import { createConsentApi } from '../consent-api';
import { REPOSITORY_ROOT, type StoreKind, testConfig } from './test-api';

/** The shipped catalogue as JSON, for a test to edit. */
export const shippedCatalogue = (): any => JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'catalogues', 'proximus.json'), 'utf8'));

/**
 * An API a test stops and starts again on the same data, as an operator restarts it after editing
 * the catalogue file (`writeCatalogue`) or the configuration (`config`, which a test may replace
 * between starts). Each test of the describe block gets a data directory (and PostgreSQL schema)
 * of its own.
 */
export interface RestartedApi {
  config: ApiConfig;
  readonly directory: string;
  readonly schema: TestSchema | undefined;
  /** Writes the shipped catalogue, edited, where the API reads it at its next start. */
  writeCatalogue(edit?: (definition: any) => void): void;
  /** Starts the API, hands its URL to `use`, and stops it. */
  withApi<T>(use: (url: string) => Promise<T>): Promise<T>;
}

export function restartedApiPerTest(kind: StoreKind, name: string): RestartedApi {
  let directory = '';
  let schema: TestSchema | undefined;
  const api: RestartedApi = {
    // Set before each test.
    config: undefined as unknown as ApiConfig,
    get directory() {
      return directory;
    },
    get schema() {
      return schema;
    },
    writeCatalogue(edit = () => undefined) {
      const definition = shippedCatalogue();
      edit(definition);
      writeFileSync(api.config.catalogueFile, JSON.stringify(definition));
    },
    async withApi(use) {
      const app = await createConsentApi(api.config, { logger: ['error', 'warn'] });
      await app.listen(0, '127.0.0.1');
      try {
        return await use(`http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`);
      } finally {
        await app.close();
      }
    },
  };
  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), `${name}-`));
    schema = kind === 'postgres' ? await createTestSchema(`cl_${name.replace(/\W/g, '_')}`) : undefined;
    api.config = testConfig({
      dataDir: join(directory, 'data'),
      masterKey: randomBytes(32),
      catalogueFile: join(directory, 'catalogue.json'),
      ...(schema && { eventStore: 'postgres', databaseUrl: schema.url }),
    });
  });
  afterEach(async () => {
    await schema?.drop();
    rmSync(directory, { recursive: true, force: true });
  });
  return api;
}

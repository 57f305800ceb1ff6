import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStoreLost } from '@consent-ledger/deployment';
import { loadCatalogue } from '@consent-ledger/domain';
import { createTestSchema, describeWithPostgres, postgresTestUrl, type TestSchema, uniqueName, withClient } from '../../../../test/support/services';
import { CATALOGUE_FILE, LedgerWriter, ManualClock } from '../../../../test/rights/support/ledger-writer';
import { readProjectorConfig } from '../../../projector/src/config';
import { ProjectorResources } from '../../../projector/src/projector-resources';
import { readConfig } from '../config';
import { Clock } from './clock';
import { LedgerStorage } from './ledger-storage';

const catalogue = loadCatalogue(JSON.parse(readFileSync(CATALOGUE_FILE, 'utf8')));
const clock = new ManualClock('2024-05-01T09:00:00Z');
const apiClock = new Clock();

/** Starts the API's storage on `env`, records a consent that seals contact details, and stops. */
async function recordSealedConsent(env: Record<string, string>): Promise<void> {
  const storage = await LedgerStorage.open(readConfig({ ...env, CATALOGUE_FILE, PROOF_RETENTION_EVERY_HOURS: '0' }), catalogue, apiClock);
  try {
    await new LedgerWriter(storage.eventStore, storage.vault, clock).record({
      type: 'GiveConsent',
      subjectId: 'cust-k1',
      purpose: 'prospect-contact-collection-events',
      contact: { name: 'Jana Peeters', email: 'jana@example.be' },
      capture: { touchpoint: 'event', actor: { kind: 'agent', id: 'stand-7' }, noticeVersion: '2024-02-27', locale: 'nl-BE' },
    });
  } finally {
    await storage.close();
  }
}

const openApiStorage = (env: Record<string, string>) => LedgerStorage.open(readConfig({ ...env, CATALOGUE_FILE, PROOF_RETENTION_EVERY_HOURS: '0' }), catalogue, apiClock);
/** The projector opens its vault before it connects to Kafka, so no broker is needed to see it refuse. */
const openProjector = (env: Record<string, string>) => ProjectorResources.open(readProjectorConfig({ ...env, CATALOGUE_FILE, KAFKA_BROKERS: '127.0.0.1:1' }));

describe('starting on the embedded default, the personal-data keys', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'consent-keys-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('are created on a fresh DATA_DIR, whose log holds no event yet', async () => {
    await (await openApiStorage({ DATA_DIR: dataDir })).close();
    expect(existsSync(join(dataDir, 'keys.sqlite'))).toBe(true);
    expect(existsSync(join(dataDir, 'master.key'))).toBe(true);
  });

  it('are not replaced when keys.sqlite is missing and the log holds events: the API refuses to start, naming the file', async () => {
    await recordSealedConsent({ DATA_DIR: dataDir });
    rmSync(join(dataDir, 'keys.sqlite'));
    const keysFile = join(dataDir, 'keys.sqlite');
    await expect(openApiStorage({ DATA_DIR: dataDir })).rejects.toThrow(KeyStoreLost);
    await expect(openApiStorage({ DATA_DIR: dataDir })).rejects.toThrow(`no key store at ${keysFile}, yet the log already holds events`);
    expect(existsSync(keysFile)).toBe(false);
  });

  it('are not replaced when master.key is missing and the log holds events, and MASTER_KEY is not set', async () => {
    await recordSealedConsent({ DATA_DIR: dataDir });
    rmSync(join(dataDir, 'master.key'));
    await expect(openApiStorage({ DATA_DIR: dataDir })).rejects.toThrow(
      `no master key: MASTER_KEY is not set and there is no ${join(dataDir, 'master.key')}, yet the log already holds events`,
    );
    expect(existsSync(join(dataDir, 'master.key'))).toBe(false);
  });

  it('are not replaced by the projector either', async () => {
    await recordSealedConsent({ DATA_DIR: dataDir });
    rmSync(join(dataDir, 'keys.sqlite'));
    await expect(openProjector({ DATA_DIR: dataDir })).rejects.toThrow(KeyStoreLost);
    expect(existsSync(join(dataDir, 'keys.sqlite'))).toBe(false);
  });
});

describeWithPostgres('starting on PostgreSQL, the personal-data keys', () => {
  let schema: TestSchema;
  let env: Record<string, string>;
  beforeEach(async () => {
    schema = await createTestSchema('fixst_keys');
    env = { EVENT_STORE: 'postgres', DATABASE_URL: schema.url, DATA_DIR: mkdtempSync(join(tmpdir(), 'consent-keys-')), MASTER_KEY: Buffer.alloc(32, 9).toString('base64') };
  });
  afterEach(async () => {
    rmSync(env.DATA_DIR, { recursive: true, force: true });
    await schema.drop();
  });

  it('are not replaced when their table is gone and the log holds events', async () => {
    await recordSealedConsent(env);
    await withClient(schema.url, (client) => client.query('DROP TABLE personal_data_keys'));
    await expect(openApiStorage(env)).rejects.toThrow(KeyStoreLost);
    await expect(openProjector(env)).rejects.toThrow(KeyStoreLost);
    const { rows } = await withClient(schema.url, (client) => client.query<{ keys: string | null }>("SELECT to_regclass('personal_data_keys') AS keys"));
    expect(rows[0].keys).toBeNull();
  });
});

// An operator counting connections against max_connections reads pg_stat_activity: the vault's
// and the idempotency records' pools came in without a name, so nothing said whose they were.
describeWithPostgres('the API\'s connections to PostgreSQL', () => {
  const database = uniqueName('cl_names').toLowerCase();
  const databaseUrl = (name: string) => Object.assign(new URL(postgresTestUrl()), { pathname: `/${name}` }).toString();
  beforeAll(() => withClient(databaseUrl('postgres'), (client) => client.query(`CREATE DATABASE ${database}`)));
  afterAll(() => withClient(databaseUrl('postgres'), (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)));

  it('each say which part of the service holds them', async () => {
    const env = { EVENT_STORE: 'postgres', DATABASE_URL: databaseUrl(database), PROJECTOR: 'off', MASTER_KEY: randomBytes(32).toString('base64'), DATA_DIR: mkdtempSync(join(tmpdir(), 'consent-names-')) };
    const storage = await openApiStorage(env);
    try {
      await new LedgerWriter(storage.eventStore, storage.vault, clock).record({
        type: 'GiveConsent',
        subjectId: 'cust-n1',
        purpose: 'prospect-contact-collection-events',
        contact: { email: 'jana@example.be' },
        capture: { touchpoint: 'event', actor: { kind: 'agent', id: 'stand-7' }, noticeVersion: '2024-02-27', locale: 'nl-BE' },
      });
      await storage.idempotencyRecords.rememberClientsOfKeys([{ keySha256: 'a'.repeat(64), client: 'crm' }]);
      const names = await withClient(databaseUrl('postgres'), async (client) =>
        (await client.query<{ name: string }>('SELECT application_name AS name FROM pg_stat_activity WHERE datname = $1', [database])).rows.map((row) => row.name),
      );
      expect(names.length).toBeGreaterThanOrEqual(4);
      expect(names.filter((name) => name === '')).toEqual([]);
    } finally {
      await storage.close();
      rmSync(env.DATA_DIR, { recursive: true, force: true });
    }
  });
});

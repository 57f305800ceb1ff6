import { randomBytes } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vaultConfigOf } from '@consent-ledger/deployment';
import { createEventStore, eventStoreConfigOf } from '@consent-ledger/event-store';
import { createPersonalDataVault } from '@consent-ledger/personal-data';
import { createTestSchema, describeWithPostgres, type TestSchema, withClient } from '../../../../test/support/services';
import { CATALOGUE_FILE, LedgerWriter, ManualClock } from '../../../../test/rights/support/ledger-writer';
import { readConfig } from '../config';
import { auditFromEnvironment } from './audit-from-environment';

/** The service's environment for one deployment: where its log, key store and master key are. */
type ServiceEnvironment = Record<string, string>;

/** Settings of the API that the auditor has no use for, each with a value the API refuses. */
const API_SETTINGS_REFUSED: ServiceEnvironment = {
  PORT: 'abc',
  REQUEST_TIMEOUT_SECONDS: '0',
  CONSENT_API_KEYS: 'not json',
  KAFKA_BROKERS: 'kafka',
  PROJECTOR: 'maybe',
  PROOF_RETENTION_EVERY_HOURS: 'daily',
  IDEMPOTENCY_RETENTION: 'P1Y',
  LOG_FORMAT: 'xml',
};

/** Records, as the service does with this environment, a consent that brought sealed evidence and contact details. */
async function recordSealedConsent(env: ServiceEnvironment): Promise<void> {
  const config = readConfig({ ...env, CATALOGUE_FILE });
  const store = await createEventStore(eventStoreConfigOf(config));
  const vault = await createPersonalDataVault(vaultConfigOf(config));
  try {
    const writer = new LedgerWriter(store, vault, new ManualClock('2024-05-01T09:00:00Z'));
    await writer.record({
      type: 'GiveConsent',
      subjectId: 'cust-r1',
      purpose: 'prospect-contact-collection-events',
      contact: { name: 'Jana Peeters', email: 'jana@example.be' },
      capture: { touchpoint: 'event', actor: { kind: 'agent', id: 'stand-7' }, noticeVersion: '2024-02-27', locale: 'nl-BE', evidenceRef: 'signed-form-42' },
    });
  } finally {
    await vault.close();
    await store.close();
  }
}

async function audit(env: ServiceEnvironment, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await auditFromEnvironment(args, { CATALOGUE_FILE, ...env }, { stdout: { write: (text) => void (stdout += text) }, stderr: { write: (text) => void (stderr += text) } });
  return { code, stdout, stderr };
}

describe('the auditor CLI on the SQLite files of a service', () => {
  let service: string;
  let logBackup: string;
  let exports: string;
  beforeEach(async () => {
    service = mkdtempSync(join(tmpdir(), 'consent-ledger-audit-service-'));
    logBackup = mkdtempSync(join(tmpdir(), 'consent-ledger-audit-log-backup-'));
    exports = mkdtempSync(join(tmpdir(), 'consent-ledger-audit-exports-'));
    await recordSealedConsent({ DATA_DIR: service });
  });
  afterEach(() => {
    for (const directory of [service, logBackup, exports]) rmSync(directory, { recursive: true, force: true });
  });

  it("exports the subject's personal data in clear with the service's key store and master key", async () => {
    const run = await audit({ DATA_DIR: service }, 'export', 'cust-r1');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      personalData: 'readable',
      choices: [{ evidence: { reference: 'signed-form-42', contact: { name: 'Jana Peeters', email: 'jana@example.be' } } }],
    });
  });

  // Found in review: an existing --out file was overwritten with the personal data and stayed 0644.
  it('writes the --out file readable by its owner only, also over an earlier file others could read', async () => {
    const out = join(exports, 'cust-r1.json');
    writeFileSync(out, 'an earlier export\n');
    chmodSync(out, 0o644);
    const run = await audit({ DATA_DIR: service }, 'export', 'cust-r1', '--out', out);
    expect(run).toMatchObject({ code: 0, stdout: '', stderr: `wrote 1 events of subject cust-r1 to ${out}\n` });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ subjectId: 'cust-r1', personalData: 'readable' });
    expect(readdirSync(exports)).toEqual(['cust-r1.json']);
  });

  // Found in review: the export went into a new file renamed over the --out path, which replaced
  // a pipe its reader was waiting on (`--out >(gpg -e …)`) and a symbolic link to another volume.
  it('writes into a pipe given as --out, and through a symbolic link into the file it names', async () => {
    const fifo = join(exports, 'to-gpg');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo]);
    let received = '';
    reader.stdout.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const closed = new Promise((resolve) => reader.once('close', resolve));
    expect(await audit({ DATA_DIR: service }, 'export', 'cust-r1', '--out', fifo)).toMatchObject({ code: 0 });
    await closed;
    expect(JSON.parse(received)).toMatchObject({ subjectId: 'cust-r1' });
    expect(lstatSync(fifo).isFIFO()).toBe(true);

    const volume = mkdtempSync(join(tmpdir(), 'consent-ledger-audit-volume-'));
    try {
      writeFileSync(join(volume, 'export.json'), 'an earlier export\n');
      symlinkSync(join(volume, 'export.json'), join(exports, 'link.json'));
      expect(await audit({ DATA_DIR: service }, 'export', 'cust-r1', '--out', join(exports, 'link.json'))).toMatchObject({ code: 0 });
      expect(lstatSync(join(exports, 'link.json')).isSymbolicLink()).toBe(true);
      expect(JSON.parse(readFileSync(join(volume, 'export.json'), 'utf8'))).toMatchObject({ subjectId: 'cust-r1' });
      expect(statSync(join(volume, 'export.json')).mode & 0o777).toBe(0o600);
      expect(readdirSync(volume)).toEqual(['export.json']);
    } finally {
      rmSync(volume, { recursive: true, force: true });
    }
  });

  // Found in review: a copy of the log alone exported a subject never erased as "erased", and the
  // CLI wrote a master key and an empty key store next to the copy.
  it('refuses to export from a backup of the log, which never holds the key store, and creates nothing there', async () => {
    copyFileSync(join(service, 'events.sqlite'), join(logBackup, 'events.sqlite'));
    const run = await audit({ DATA_DIR: logBackup }, 'export', 'cust-r1');
    expect(run).toMatchObject({ code: 3, stdout: '', stderr: expect.stringContaining(`audit failed: no key store at ${join(logBackup, 'keys.sqlite')}`) });
    expect(readdirSync(logBackup)).toEqual(['events.sqlite']);
  });

  it('runs no proof retention on a backup of the log, creating nothing there', async () => {
    copyFileSync(join(service, 'events.sqlite'), join(logBackup, 'events.sqlite'));
    expect(await audit({ DATA_DIR: logBackup }, 'retention', '--dry-run')).toMatchObject({ code: 3, stderr: expect.stringContaining('no key store at') });
    expect(readdirSync(logBackup)).toEqual(['events.sqlite']);
  });

  // Found in review: help opened the log, creating an empty one where a mistyped DATA_DIR pointed,
  // and verify then called that one intact, exit 0.
  it('answers help and an unknown command without opening a log, so a mistyped DATA_DIR still holds none for verify', async () => {
    const mistyped = join(logBackup, 'no-such-directory');
    expect(await audit({ DATA_DIR: mistyped }, 'help')).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: npm run audit') });
    expect(await audit({ DATA_DIR: mistyped }, 'verfiy')).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('unknown command "verfiy"\n\nUsage: npm run audit') });
    expect(existsSync(mistyped)).toBe(false);
    expect(await audit({ DATA_DIR: mistyped }, 'verify')).toMatchObject({ code: 3, stdout: '', stderr: expect.stringContaining(`no event store at ${join(mistyped, 'events.sqlite')}`) });
    expect(await audit({ DATA_DIR: service, EVENT_STORE: 'mysql' }, 'help')).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: npm run audit') });
  });

  // Found in review: the CLI read the API's whole configuration, so from cron on a host whose
  // environment carries the API's settings, one it has no use for failed even verify, exit 3.
  it('verifies and reads a history whatever the settings it does not use say: the API\'s, NODE_ENV=production without a key, a MASTER_KEY that is none', async () => {
    const cron = { DATA_DIR: service, ...API_SETTINGS_REFUSED, NODE_ENV: 'production', MASTER_KEY: 'not a key' };
    expect(await audit(cron, 'verify')).toEqual({ code: 0, stdout: expect.stringMatching(/^intact: \d+ events in 1 streams checked\n$/), stderr: '' });
    expect(await audit(cron, 'history', 'cust-r1')).toMatchObject({ code: 0, stdout: expect.stringContaining('Subject cust-r1:'), stderr: '' });
  });

  it('refuses, naming it, a MASTER_KEY that is not a key when a command opens personal data with it', async () => {
    const expected = { code: 3, stdout: '', stderr: 'audit failed: the master key is invalid:\n  - MASTER_KEY must be base64\n' };
    expect(await audit({ DATA_DIR: service, ...API_SETTINGS_REFUSED, MASTER_KEY: 'not a key' }, 'export', 'cust-r1')).toEqual(expected);
    expect(await audit({ DATA_DIR: service, MASTER_KEY: 'not a key' }, 'retention', '--dry-run')).toEqual(expected);
  });

  it('refuses the settings it uses that the service would refuse, naming those alone', async () => {
    const run = await audit({ DATA_DIR: service, ...API_SETTINGS_REFUSED, EVENT_STORE: 'mysql', DATABASE_URL: 'mysql://db/consent' }, 'verify');
    expect(run).toEqual({
      code: 3,
      stdout: '',
      stderr:
        "audit failed: the auditor CLI's configuration is invalid:\n" +
        '  - EVENT_STORE must be one of sqlite, postgres, kurrentdb (got "mysql")\n' +
        '  - DATABASE_URL must be a postgres:// connection string\n',
    });
  });

  // A cron job runs in another working directory than the service, where the default CATALOGUE_FILE is not.
  it('verifies without the purpose catalogue, which it does not read, and names CATALOGUE_FILE for a command that does', async () => {
    const elsewhere = { DATA_DIR: service, CATALOGUE_FILE: join(logBackup, 'catalogues/proximus.json') };
    expect(await audit(elsewhere, 'verify')).toMatchObject({ code: 0, stdout: expect.stringContaining('intact: '), stderr: '' });
    expect(await audit(elsewhere, 'history', 'cust-r1')).toMatchObject({
      code: 3,
      stdout: '',
      stderr: expect.stringContaining(`audit failed: the purpose catalogue is invalid:\n  - cannot read ${elsewhere.CATALOGUE_FILE} (set CATALOGUE_FILE)`),
    });
  });

  // The auditor gives each statement on PostgreSQL this long; read and checked as the service reads it.
  it('refuses a DATABASE_ANSWER_TIMEOUT_SECONDS the service would refuse, naming it, before it reads anything', async () => {
    const run = await audit({ DATA_DIR: service, DATABASE_ANSWER_TIMEOUT_SECONDS: '0' }, 'verify');
    expect(run).toEqual({ code: 3, stdout: '', stderr: expect.stringContaining('DATABASE_ANSWER_TIMEOUT_SECONDS must be a whole number from 1 to 600 (got "0")') });
  });

  it('refuses to export with the key store but not its master key, and makes no master key of its own', async () => {
    copyFileSync(join(service, 'events.sqlite'), join(logBackup, 'events.sqlite'));
    copyFileSync(join(service, 'keys.sqlite'), join(logBackup, 'keys.sqlite'));
    const run = await audit({ DATA_DIR: logBackup }, 'export', 'cust-r1');
    expect(run).toMatchObject({ code: 3, stdout: '', stderr: expect.stringContaining(`no master key: MASTER_KEY is not set and there is no ${join(logBackup, 'master.key')}`) });
    expect(readdirSync(logBackup).sort()).toEqual(['events.sqlite', 'keys.sqlite']);
  });
});

describeWithPostgres('the auditor CLI on the PostgreSQL database of a service', () => {
  let schema: TestSchema;
  let dataDir: string;
  const masterKey = randomBytes(32).toString('base64');
  beforeEach(async () => {
    schema = await createTestSchema('ha_audit');
    dataDir = mkdtempSync(join(tmpdir(), 'consent-ledger-audit-data-dir-'));
  });
  afterEach(async () => {
    await schema.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const postgres = (more: ServiceEnvironment = {}) => ({ EVENT_STORE: 'postgres', DATABASE_URL: schema.url, DATA_DIR: dataDir, ...more });

  // Found in review: the export failed (MasterKeyMismatch), but left a new master.key in DATA_DIR.
  it('refuses to export without MASTER_KEY, and writes no master key into DATA_DIR', async () => {
    await recordSealedConsent(postgres({ MASTER_KEY: masterKey }));
    const run = await audit(postgres(), 'export', 'cust-r1');
    expect(run).toMatchObject({ code: 3, stdout: '', stderr: expect.stringContaining('no master key: MASTER_KEY is not set') });
    expect(readdirSync(dataDir)).toEqual([]);
  });

  // A production host's cron: NODE_ENV=production makes the API require MASTER_KEY, not the auditor.
  it('verifies with NODE_ENV=production and no MASTER_KEY, which only a command opening personal data needs', async () => {
    await recordSealedConsent(postgres({ MASTER_KEY: masterKey }));
    const cron = postgres({ ...API_SETTINGS_REFUSED, NODE_ENV: 'production' });
    expect(await audit(cron, 'verify')).toMatchObject({ code: 0, stdout: expect.stringContaining('intact: '), stderr: '' });
    expect(await audit(cron, 'export', 'cust-r1')).toMatchObject({ code: 3, stdout: '', stderr: expect.stringContaining('no master key: MASTER_KEY is not set') });
    expect(await audit({ ...cron, MASTER_KEY: masterKey }, 'export', 'cust-r1')).toMatchObject({ code: 0, stdout: expect.stringContaining('"personalData": "readable"') });
  });

  // Found in review: an empty or mistyped schema got the log's tables, and verify called it intact.
  it('refuses to audit a schema that holds no log, and creates none there', async () => {
    const run = await audit(postgres({ MASTER_KEY: masterKey }), 'verify');
    expect(run).toMatchObject({ code: 3, stdout: '', stderr: expect.stringContaining('no event store in DATABASE_URL') });
    const tables = await withClient(schema.url, (client) => client.query("SELECT count(*)::int AS tables FROM pg_tables WHERE schemaname = current_schema()"));
    expect(tables.rows).toEqual([{ tables: 0 }]);
  });

  it('refuses to export from a database that holds the log but not the key tables, and creates none', async () => {
    const store = await createEventStore({ kind: 'postgres', url: schema.url });
    await store.close();
    const run = await audit(postgres({ MASTER_KEY: masterKey }), 'export', 'cust-r1');
    expect(run).toMatchObject({ code: 3, stdout: '', stderr: expect.stringContaining('no key store at PostgreSQL table personal_data_keys') });
    const tables = await withClient(schema.url, (client) => client.query("SELECT to_regclass('personal_data_keys') AS keys, to_regclass('personal_data_vault_meta') AS meta"));
    expect(tables.rows).toEqual([{ keys: null, meta: null }]);
  });
});

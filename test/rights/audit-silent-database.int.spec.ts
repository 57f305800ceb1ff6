import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createEventStore, eventStoreConfigOf } from '@consent-ledger/event-store';
import { createPersonalDataVault } from '@consent-ledger/personal-data';
import { vaultConfigOf } from '@consent-ledger/deployment';
import { readConfig } from '../../apps/consent-api/src/config';
import { postgresBehindProxy, type PostgresBehindProxy } from '../support/postgres-behind-proxy';
import { describeWithPostgres } from '../support/services';
import { auditProcess, buildProject } from './support/audit-run';
import { CATALOGUE_FILE, LedgerWriter, ManualClock } from './support/ledger-writer';

/** DATABASE_ANSWER_TIMEOUT_SECONDS, short for the test. */
const ANSWER_TIMEOUT_MS = 1000;
/** Node starting and stopping, on a busy two-core machine. */
const MARGIN_MS = 3000;
const SUBJECT = 'audit-silent-1';

// Found in review: with PostgreSQL silent (a network cut that leaves the connections open, a hung
// server), every command of the auditor CLI waited for ever, run from cron with nobody to stop it.
describeWithPostgres('npm run audit when PostgreSQL stops answering', () => {
  let database: PostgresBehindProxy;
  let dataDir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    const build = await buildProject();
    if (build.code !== 0) throw new Error(`npm run build failed, so npm run audit cannot run:\n${build.stdout}${build.stderr}`);
  }, 180_000);

  beforeEach(async () => {
    database = await postgresBehindProxy('audit_silent');
    dataDir = mkdtempSync(join(tmpdir(), 'consent-ledger-audit-silent-'));
    env = {
      EVENT_STORE: 'postgres',
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      MASTER_KEY: randomBytes(32).toString('base64'),
      CATALOGUE_FILE,
      DATABASE_ANSWER_TIMEOUT_SECONDS: String(ANSWER_TIMEOUT_MS / 1000),
    };
    await recordSealedConsent(env);
  });

  afterEach(async () => {
    await database.proxy.restore();
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const where = () => `PostgreSQL at ${new URL(database.url).host}/${new URL(database.url).pathname.slice(1)}`;

  it.each([
    ['verify', ['verify'], 'REPEATABLE READ'],
    ['history', ['history', SUBJECT], `consent-ledger-${SUBJECT}`],
    ['as-of', ['as-of', SUBJECT, '2024-06-01T00:00:00Z'], `consent-ledger-${SUBJECT}`],
    ['export', ['export', SUBJECT], `consent-ledger-${SUBJECT}`],
    ["export, at the subject's key", ['export', SUBJECT], 'personal_data_keys WHERE subject_id'],
    ['retention', ['retention', '--dry-run'], 'stream_name >= $1'],
  ])('%s exits 3 within the timeout, naming the database and the setting, when a statement of it gets no answer', async (_, args, statement) => {
    const sent = database.proxy.loseAnswersAfter(statement);
    const running = auditProcess(args, env, { killAfterMs: 60_000 });
    await sent;
    database.proxy.freeze();
    const silentFrom = Date.now();

    const run = await running;
    expect(Date.now() - silentFrom).toBeLessThan(ANSWER_TIMEOUT_MS + MARGIN_MS);
    expect(run).toMatchObject({ code: 3, stdout: '', stderr: expect.stringMatching(new RegExp(`^audit failed: ${escaped(where())} did not answer within DATABASE_ANSWER_TIMEOUT_SECONDS \\(1 s\\): `)) });
    expect(run.stderr).toContain('PostgreSQL did not answer the statement, nor say it was still working on it');
  }, 90_000);

  // Found in review: each subject the job could not read was kept as a failure of the run, and the
  // next one waited a timeout of its own: hours on a large store.
  it('stops the proof-retention job at the first subject it cannot read, exit 3 within the timeout', async () => {
    await recordCustomers(env, 20);
    const sent = database.proxy.loseAnswersAfter(`consent-ledger-${SUBJECT}`);
    const running = auditProcess(['retention', '--dry-run'], env, { killAfterMs: 60_000 });
    await sent;
    database.proxy.freeze();
    const silentFrom = Date.now();

    const run = await running;
    expect(Date.now() - silentFrom).toBeLessThan(ANSWER_TIMEOUT_MS + MARGIN_MS);
    expect(run).toMatchObject({ code: 3, stdout: '', stderr: expect.stringContaining('did not answer within DATABASE_ANSWER_TIMEOUT_SECONDS (1 s)') });
  }, 90_000);

  it('exits 3 within the timeout, naming the database and the setting, when PostgreSQL takes no connection', async () => {
    database.proxy.freeze();
    const silentFrom = Date.now();
    const run = await auditProcess(['verify'], env, { killAfterMs: 60_000 });
    expect(Date.now() - silentFrom).toBeLessThan(ANSWER_TIMEOUT_MS + MARGIN_MS);
    expect(run).toMatchObject({ code: 3, stdout: '', stderr: `audit failed: ${where()} gave no connection within 1 s (DATABASE_ANSWER_TIMEOUT_SECONDS, 5 s at most): timeout expired\n` });
  }, 90_000);

  // The timeout is PostgreSQL's silence, not a statement's length: another run's lock is waited for.
  it('runs the proof-retention job after waiting for another run longer than the timeout', async () => {
    const otherRun = new Client({ connectionString: database.url });
    await otherRun.connect();
    try {
      await otherRun.query("SELECT pg_advisory_lock(3102, hashtext(current_schema() || ':proof-retention-runs'))");
      const started = Date.now();
      const running = auditProcess(['retention'], env, { killAfterMs: 60_000 });
      // The other run goes on for three timeouts.
      setTimeout(() => void otherRun.query('SELECT pg_advisory_unlock_all()'), 3 * ANSWER_TIMEOUT_MS);
      const run = await running;
      expect(run).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Removed 0 of 1 subjects' records/) });
      expect(Date.now() - started).toBeGreaterThan(3 * ANSWER_TIMEOUT_MS);
    } finally {
      await otherRun.end();
    }
  }, 30_000);
});

/** Records, as the service does with this environment, a consent that brought contact details, sealed with the subject's key. */
async function recordSealedConsent(env: Record<string, string>): Promise<void> {
  const config = readConfig(env);
  const store = await createEventStore(eventStoreConfigOf(config));
  const vault = await createPersonalDataVault(vaultConfigOf(config));
  try {
    await new LedgerWriter(store, vault, new ManualClock('2024-05-01T09:00:00Z')).record({
      type: 'GiveConsent',
      subjectId: SUBJECT,
      purpose: 'prospect-contact-collection-events',
      contact: { name: 'Jana Peeters', email: 'jana@example.be' },
      capture: { touchpoint: 'event', actor: { kind: 'agent', id: 'stand-7' }, noticeVersion: '2024-02-27', locale: 'nl-BE' },
    });
  } finally {
    await vault.close();
    await store.close();
  }
}

/** Customers whose names come after SUBJECT's, so that the job reads them after it. */
async function recordCustomers(env: Record<string, string>, count: number): Promise<void> {
  const config = readConfig(env);
  const store = await createEventStore(eventStoreConfigOf(config));
  const vault = await createPersonalDataVault(vaultConfigOf(config));
  try {
    const writer = new LedgerWriter(store, vault, new ManualClock('2024-05-01T09:00:00Z'));
    for (let index = 0; index < count; index += 1) {
      const subjectId = `${SUBJECT}-customer-${index}`;
      await writer.record({ type: 'StartRelationship', subjectId, relationship: 'customer', capture: { touchpoint: 'shop', actor: { kind: 'agent', id: 'shop-1' } } });
    }
  } finally {
    await vault.close();
    await store.close();
  }
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

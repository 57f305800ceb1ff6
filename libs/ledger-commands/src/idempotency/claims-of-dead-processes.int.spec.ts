import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type Instant, loadCatalogue } from '@consent-ledger/domain';
import { type EventStore, openPostgresEventStore, openSqliteEventStore } from '@consent-ledger/event-store';
import { InMemoryVault } from '@consent-ledger/personal-data';
import proximus from '../../../../catalogues/proximus.json';
import { createTestSchema, describeWithPostgres, type TestSchema, withClient } from '../../../../test/support/services';
import { CommandIntake } from '../command-intake';
import { LedgerStreams } from '../ledger-streams';
import { ledgerStreamOf } from '../subject-streams';
import { commandJson } from '../testing/command-json';
import { type IdempotencyClaim, type IdempotencyRecord, type IdempotencyRecords, PENDING } from './idempotency-records.port';
import { openPostgresIdempotencyRecords } from './postgres-idempotency-records';
import { openSqliteIdempotencyRecords } from './sqlite-idempotency-records';

const catalogue = loadCatalogue(proximus);

/** Where each store keeps its records and log, and how another process opens the same records. */
interface Storage {
  openRecords(): Promise<IdempotencyRecords>;
  openLog(): Promise<EventStore>;
  /** JavaScript, run in another process from the compiled code (`npm test` builds it first), resolving to the records. */
  readonly recordsInAnotherProcess: string;
  /** A pending claim as a process from before holders were recorded took it: no holder. */
  claimWithoutHolder(claim: IdempotencyClaim): Promise<void>;
}

/**
 * Another process that claims a key and then hangs, as one stuck in the middle of deciding it:
 * killed with SIGKILL, it dies before appending or keeping any answer.
 */
async function anotherProcessClaiming(storage: Storage, claim: IdempotencyClaim): Promise<{ process: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      // Held by a global: records nothing refers to any more would be collected, their lock with them.
      `(async () => { globalThis.records = await ${storage.recordsInAnotherProcess}; const found = await globalThis.records.claim(${JSON.stringify(claim)}); console.log(found === undefined ? 'claimed' : 'found a claim'); setInterval(() => {}, 1000); })()`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const said = await new Promise<string>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    void exited.then(() => resolve(`exited: ${errors}`));
  });
  expect(said).toBe('claimed');
  return { process: child, exited };
}

/** What a promise has come to after `ms`: its value, or that it is still waiting. */
const after = <T>(ms: number, promise: Promise<T>): Promise<T | 'still waiting'> =>
  Promise.race([promise, new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), ms))]);

function claimsOfProcessesThatDied(storage: () => Storage): void {
  describe('a retried request whose key another process claimed', () => retriesOfClaimsElsewhere(storage));
}

function retriesOfClaimsElsewhere(storage: () => Storage): void {
  let records: IdempotencyRecords;
  let log: EventStore;
  let commands: CommandIntake;
  const children: ChildProcess[] = [];
  const json = commandJson.restrictChannel('subject-1');
  const checked = () => {
    const validated = commands.check(json);
    if (validated.errors) throw new Error(JSON.stringify(validated.errors));
    return validated.value;
  };
  const submit = () => commands.execute(checked(), { client: 'shop-app', idempotencyKey: 'key-1', requestFingerprint: commands.fingerprintOf(json) });
  const claimOfTheRequest = (): IdempotencyClaim => ({
    client: 'shop-app',
    idempotencyKey: 'key-1',
    requestFingerprint: commands.fingerprintOf(json),
    recordedAt: new Date().toISOString(),
  });
  const eventsRecorded = async () => (await log.readStream(ledgerStreamOf('subject-1'))).map((event) => event.type);

  beforeEach(async () => {
    [records, log] = await Promise.all([storage().openRecords(), storage().openLog()]);
    commands = new CommandIntake({ catalogue, vault: new InMemoryVault(), idempotencyRecords: records, ledgerStreams: new LedgerStreams(log, catalogue), now: () => new Date().toISOString() as Instant });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await commands.whenAnswersKept();
    await Promise.all([records.close(), log.close()]);
  });

  it('decides a retry at once when the process that claimed its key died before appending, and records it once', async () => {
    const holder = await anotherProcessClaiming(storage(), claimOfTheRequest());
    children.push(holder.process);
    holder.process.kill('SIGKILL');
    await holder.exited;

    const started = Date.now();
    const retried = await submit();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(retried).toMatchObject({ status: 201, replayed: false });
    expect(await submit()).toEqual({ ...retried, replayed: true });
    expect(await eventsRecorded()).toEqual(['ChannelRestricted']);
  }, 30_000);

  it('waits for a claim whose process is alive, and decides once that process dies', async () => {
    const holder = await anotherProcessClaiming(storage(), claimOfTheRequest());
    children.push(holder.process);

    const retried = submit();
    expect(await after(1_500, retried)).toBe('still waiting');
    expect(await eventsRecorded()).toEqual([]);

    holder.process.kill('SIGKILL');
    const killedAt = Date.now();
    expect(await retried).toMatchObject({ status: 201, replayed: false });
    expect(Date.now() - killedAt).toBeLessThan(2_000);
    expect(await eventsRecorded()).toEqual(['ChannelRestricted']);
  }, 30_000);

  // Such a claim names no process to look at: a slow one is not told from a dead one but by time.
  it('waits for a claim taken before holders were recorded, as for 15 s before', async () => {
    const claim = claimOfTheRequest();
    await storage().claimWithoutHolder(claim);

    const retried = submit();
    expect(await after(1_500, retried)).toBe('still waiting');
    const answer: IdempotencyRecord = { ...claim, status: 422, body: '{"error":"a rule of the old process"}' };
    await records.save(answer);
    expect(await retried).toMatchObject({ status: 422, replayed: true });
    expect(await eventsRecorded()).toEqual([]);
  }, 30_000);
}

describe('SQLite: claims of processes that died', () => {
  let directory: string;
  beforeEach(() => (directory = mkdtempSync(join(tmpdir(), 'consent-ledger-holders-'))));
  afterEach(() => rmSync(directory, { recursive: true, force: true }));
  const stateFile = () => join(directory, 'state.sqlite');

  const sqlite = (): Storage => ({
    openRecords: async () => openSqliteIdempotencyRecords({ file: stateFile() }),
    openLog: async () => openSqliteEventStore({ file: join(directory, 'events.sqlite') }),
    recordsInAnotherProcess: `require('./dist/libs/ledger-commands/src/idempotency/sqlite-idempotency-records').openSqliteIdempotencyRecords({ file: ${JSON.stringify(stateFile())} })`,
    claimWithoutHolder: async (claim) => {
      const db = new Database(stateFile());
      db.prepare(`insert into idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at) values (?, ?, ?, ${PENDING}, '', ?)`).run(
        claim.client,
        claim.idempotencyKey,
        claim.requestFingerprint,
        claim.recordedAt,
      );
      db.close();
    },
  });
  claimsOfProcessesThatDied(sqlite);

  it('removes the lock file of a process found dead, and its own when closed', async () => {
    const records = openSqliteIdempotencyRecords({ file: stateFile() });
    const { process: child, exited } = await anotherProcessClaiming(sqlite(), { client: 'c', idempotencyKey: 'k', requestFingerprint: 'f', recordedAt: new Date().toISOString() });
    try {
      const claim = (await records.claim({ client: 'c', idempotencyKey: 'k', requestFingerprint: 'f', recordedAt: new Date().toISOString() }))!;
      expect(claim.holder).toEqual(expect.any(String));
      expect(await records.holderGone(claim)).toBe(false);
      child.kill('SIGKILL');
      await exited;
      expect(await records.holderGone(claim)).toBe(true);
      expect(readdirSync(directory).filter((name) => name.endsWith('.lock'))).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
      await records.close();
    }
    expect(readdirSync(directory).filter((name) => name.endsWith('.lock'))).toEqual([]);
  }, 30_000);

  // A process that crashed left its file, and only a retry of one of its claims looked at it: a
  // service restarted again and again (out of memory, say) piled them up beside the database.
  it('removes the lock files of processes that died when it opens, and keeps those of live ones', async () => {
    const openElsewhere = `globalThis.records = require('./dist/libs/ledger-commands/src/idempotency/sqlite-idempotency-records').openSqliteIdempotencyRecords({ file: ${JSON.stringify(stateFile())} }); console.log('open'); setInterval(() => {}, 1000);`;
    const [dead, alive] = [0, 1].map(() => spawn(process.execPath, ['-e', openElsewhere], { stdio: ['ignore', 'pipe', 'inherit'] }));
    try {
      // Said, or the process ended without saying it (then the test fails here, not at its timeout).
      const said = await Promise.all([dead, alive].map((child) => new Promise<string>((resolve) => {
        child.stdout!.on('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
        child.on('exit', () => resolve('exited'));
      })));
      expect(said).toEqual(['open', 'open']);
      const exited = new Promise((resolve) => dead.on('exit', resolve));
      dead.kill('SIGKILL');
      await exited;
      const lockFiles = () => readdirSync(directory).filter((name) => name.includes('.holder-'));
      const before = lockFiles();

      const records = openSqliteIdempotencyRecords({ file: stateFile() });
      try {
        const holdersLeft = new Set(lockFiles().map((name) => name.replace(/\.lock(-journal)?$/, '')));
        expect(holdersLeft.size).toBe(2);
        expect(before.filter((name) => !lockFiles().includes(name)).length).toBeGreaterThan(0);
      } finally {
        await records.close();
      }
    } finally {
      dead.kill('SIGKILL');
      alive.kill('SIGKILL');
    }
  }, 30_000);
});

describeWithPostgres('PostgreSQL: claims of processes that died', () => {
  let schema: TestSchema;
  beforeEach(async () => {
    schema = await createTestSchema('cl_holders');
  });
  afterEach(() => schema.drop());

  claimsOfProcessesThatDied(() => ({
    openRecords: () => openPostgresIdempotencyRecords({ url: schema.url }),
    openLog: () => openPostgresEventStore({ url: schema.url, poolSize: 2 }),
    recordsInAnotherProcess: `require('./dist/libs/ledger-commands/src/idempotency/postgres-idempotency-records').openPostgresIdempotencyRecords({ url: ${JSON.stringify(schema.url)} })`,
    claimWithoutHolder: (claim) =>
      withClient(schema.url, (client) =>
        client.query(`insert into idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at) values ($1, $2, $3, ${PENDING}, '', $4)`, [
          claim.client,
          claim.idempotencyKey,
          claim.requestFingerprint,
          claim.recordedAt,
        ]),
      ).then(() => undefined),
  }));

  // The connection holding the lock can be lost while the process lives (a restarted PostgreSQL,
  // a network cut): its later claims must again be waited for, not decided twice.
  it('takes its lock again when its lock connection is lost, so its claims are waited for again', async () => {
    const holderConnections = `select pid from pg_stat_activity where application_name = 'consent-ledger-idempotency-holder' and datname = current_database()`;
    const holderPids = () => withClient(schema.url, async (client) => (await client.query(holderConnections)).rows.map((row) => row.pid as number));
    // Other suites' processes hold connections of that name in the same database: only this test's are cut.
    const othersBefore = await holderPids();
    const [holding, waiting] = await Promise.all([openPostgresIdempotencyRecords({ url: schema.url }), openPostgresIdempotencyRecords({ url: schema.url })]);
    try {
      const claimed = { client: 'c', idempotencyKey: 'k', requestFingerprint: 'f', recordedAt: new Date().toISOString() };
      await holding.claim(claimed);
      const claim = (await waiting.claim(claimed))!;
      expect(await waiting.holderGone(claim)).toBe(false);

      const lost = (await holderPids()).filter((pid) => !othersBefore.includes(pid));
      expect(lost).toHaveLength(2);
      await withClient(schema.url, (client) => client.query('select pg_terminate_backend(pid) from unnest($1::int[]) pid', [lost]));
      const reconnected = async () => (await holderPids()).filter((pid) => !lost.includes(pid) && !othersBefore.includes(pid)).length === 2;
      for (const started = Date.now(); !(await reconnected()) && Date.now() - started < 5_000; ) await new Promise((resolve) => setTimeout(resolve, 50));
      let gone = await waiting.holderGone(claim);
      for (const started = Date.now(); gone && Date.now() - started < 5_000; gone = await waiting.holderGone(claim)) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(gone).toBe(false);
    } finally {
      await Promise.all([holding.close(), waiting.close()]);
    }
  }, 30_000);
});

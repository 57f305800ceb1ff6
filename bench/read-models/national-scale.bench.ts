// Run: npm run build && node dist/bench/read-models/national-scale.bench.js
//   PostgreSQL on TEST_DATABASE_URL (default database `test`, a fresh schema per run).
//   BENCH_SUBJECTS customers in the read models at national scale (default 1,000,000),
//   BENCH_POPULATION customers given real histories through the ledger and the projector (default 10,000),
//   BENCH_QUESTIONS audience questions of 10,000 customers at each size (default 40),
//   BENCH_UPDATES choices of distinct existing customers the projector catches up with at each size (default 5,000, at most the population).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Catalogue, type Instant, type LedgerCommand, loadCatalogue, type SubjectId } from '@consent-ledger/domain';
import { openPostgresEventStore, type EventStore, type GlobalPosition } from '@consent-ledger/event-store';
import { LedgerStreams } from '@consent-ledger/ledger-commands';
import { createReadModels, MAX_AUDIENCE_SIZE, type ProjectedReadModels, startProjections } from '@consent-ledger/read-models';
import { format } from '../event-store/measurement';
import { ascending, percentile } from '../support/percentile';
import { benchDatabaseUrl as databaseUrl, onDatabase, schemaUrl } from '../support/postgres';
import { ProcessCpu } from '../support/process-cpu';

/**
 * Whether the read models hold up with a national operator's customer base in them, not the few
 * thousand the other benchmarks use. A population of customers gets varied histories through the
 * ledger and the projector; their rows are then copied under new subject ids until the tables
 * hold BENCH_SUBJECTS customers (copying rows is minutes, projecting a million histories would be
 * hours). The same two measurements run at both sizes, in this run, and print as ratios:
 * - an audience question (`POST /v1/decisions`) about 10,000 customers drawn from all of them;
 * - the projector catching up with choices of existing customers drawn from all of them, which
 *   reads, rewrites and re-indexes those customers' rows.
 * A ratio near 1 says the work per customer does not grow with the tables.
 */
const nationalScale = Number(process.env.BENCH_SUBJECTS ?? 1_000_000);
const population = Number(process.env.BENCH_POPULATION ?? 10_000);
const questions = Number(process.env.BENCH_QUESTIONS ?? 40);
/** Distinct customers at both sizes, so the population bounds it. */
const updates = Math.min(Number(process.env.BENCH_UPDATES ?? 5_000), population);
const root = join(__dirname, '..', '..', '..');
const PICKX = 'targeted-tv-advertising-pickx';
const ADS_AND_DATA = 'targeted-web-app-advertising-ads-and-data';
/** The API's limit, or the whole population when smaller: the same question size at both sizes. */
const questionSize = Math.min(MAX_AUDIENCE_SIZE, population);
/** The role of this process in CPU readings: it runs the projector under test. */
const PROJECTOR = 'projector (this process)';
const READ_MODEL_TABLES = ['rm_subjects', 'rm_decisions', 'rm_suppressions', 'rm_audience_members'];

interface AtSize {
  readonly subjects: number;
  readonly questionMs: number[];
  readonly updatesPerSecond: number;
  readonly bytesPerSubject: number;
}

async function main(): Promise<void> {
  const schema = `bench_scale_${Date.now().toString(36)}`;
  await onDatabase(databaseUrl, (client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = schemaUrl(databaseUrl, schema);
  const catalogue = loadCatalogue(JSON.parse(readFileSync(join(root, 'catalogues/proximus.json'), 'utf8')));
  const store = await openPostgresEventStore({ url, poolSize: 8 });
  const readModels = await createReadModels({ storage: { kind: 'postgres', url, poolSize: 8 }, catalogue, store, keepsThem: true });
  const ledger = new Ledger(store, catalogue);
  try {
    const setting = (name: string) => onDatabase(url, async (client) => (await client.query(`SHOW ${name}`)).rows[0][name] as string);
    console.log(`PostgreSQL ${await setting('server_version')}, shared_buffers ${await setting('shared_buffers')}; `
      + `${format(population)} customers with histories, copied up to ${format(nationalScale)}\n`);
    let started = performance.now();
    const subjects = Array.from({ length: population }, (_, i) => `customer-${i}` as SubjectId);
    const head = await ledger.run(subjects.flatMap((subjectId, i) => historyOf(subjectId, i, catalogue)));
    await projectUpTo(readModels, store, head);
    console.log(`histories: ${format(Number(head))} events for ${format(population)} customers, projected in ${seconds(started)}`);

    const small = await measure(readModels, store, ledger, subjects, url);
    started = performance.now();
    const copies = Math.ceil(nationalScale / population) - 1;
    await copyCustomers(url, copies);
    const everyone = [...subjects, ...subjects.flatMap((subjectId) => Array.from({ length: copies }, (_, k) => `${subjectId}~${k + 1}` as SubjectId))];
    console.log(`copied the read-model rows ${format(copies)} times (${format(everyone.length)} customers) in ${seconds(started)}\n`);
    const large = await measure(readModels, store, ledger, everyone, url);

    for (const size of [small, large]) {
      const sorted = ascending(size.questionMs);
      console.log(
        `${format(size.subjects).padStart(10)} customers: audience question of ${format(questionSize)} p50 ${percentile(sorted, 0.5).toFixed(1)} ms, `
          + `p99 ${percentile(sorted, 0.99).toFixed(1)} ms; projector ${format(size.updatesPerSecond)} choices/s; ${format(size.bytesPerSubject)} bytes of read models per customer`,
      );
    }
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)} ×`;
    console.log(`\n${format(large.subjects)} vs ${format(small.subjects)} customers (1.00 × = no slower with more customers)`);
    console.log(`  audience question p50 time       ${ratio(percentile(ascending(large.questionMs), 0.5), percentile(ascending(small.questionMs), 0.5))}`);
    console.log(`  projector choices per second      ${ratio(large.updatesPerSecond, small.updatesPerSecond)}`);
    console.log(`  read models per million customers ${format((large.bytesPerSubject * 1e6) / 2 ** 30)} GiB (tables and indexes)`);
  } finally {
    await readModels.close();
    await store.close();
    await onDatabase(databaseUrl, (client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
  }
}

/** Both measurements over the customers the tables hold now. */
async function measure(readModels: ProjectedReadModels, store: EventStore, ledger: Ledger, subjects: readonly SubjectId[], url: string): Promise<AtSize> {
  // What autovacuum does to tables that grew: statistics for the planner, hint bits, visibility map.
  await onDatabase(url, (client) => client.query(`VACUUM ANALYZE ${READ_MODEL_TABLES.join(', ')}`));
  const at = new Date().toISOString() as Instant;
  /** One audience question about customers drawn at random; its time in ms. */
  const ask = async () => {
    const subjectIds = sample(subjects, questionSize);
    const started = performance.now();
    await readModels.filterAudience({ purpose: ADS_AND_DATA, channel: 'online-ads', at, subjectIds });
    return performance.now() - started;
  };
  await ask();
  const questionMs: number[] = [];
  for (let i = 0; i < questions; i += 1) questionMs.push(await ask());

  // Appended first, then projected as one backlog: the projector's own rate, not the ledger's.
  const chosen = sample(subjects, updates);
  const head = await ledger.run(chosen.map((subjectId, i) => choice(subjectId, i % 2 === 0 ? 'GiveConsent' : 'WithdrawConsent', PICKX)));
  const walBefore = await wal(url);
  const stopCpu = new ProcessCpu({}, PROJECTOR).start();
  const started = performance.now();
  await projectUpTo(readModels, store, head);
  const updatesPerSecond = updates / ((performance.now() - started) / 1000);
  const cpu = stopCpu();
  const walAfter = await wal(url);
  // Cluster-wide counters: nothing else of ours writes while the projector catches up. The
  // projector runs in this process; the rest of the machine's busy time is mostly PostgreSQL.
  const nodeCpu = cpu ? `${format(((cpu.coreSeconds.get(PROJECTOR) ?? 0) / updates) * 1e6)} µs of Node CPU` : 'Node CPU not measured (no /proc)';
  console.log(
    `${format(subjects.length)} customers, projector per choice: ${nodeCpu}, `
      + `${format((walAfter.bytes - walBefore.bytes) / updates)} B of WAL, ${((walAfter.fullPages - walBefore.fullPages) / updates).toFixed(1)} full-page images; `
      + `machine ${cpu ? (100 - 100 * cpu.idleShare).toFixed(0) : '?'}% busy`,
  );

  const tables = await onDatabase(url, async (client) => {
    const sizes: { name: string; bytes: string; rows: string }[] = [];
    for (const name of READ_MODEL_TABLES) {
      const { rows } = await client.query<{ bytes: string; rows: string }>(`SELECT pg_total_relation_size('${name}') AS bytes, count(*) AS rows FROM ${name}`);
      sizes.push({ name, ...rows[0] });
    }
    return sizes;
  });
  const perSubject = (value: string) => Number(value) / subjects.length;
  console.log(`${format(subjects.length)} customers, per customer: ${tables.map((table) => `${table.name} ${perSubject(table.rows).toFixed(1)} rows ${format(perSubject(table.bytes))} B`).join(', ')}`);
  const bytes = tables.reduce((sum, table) => sum + Number(table.bytes), 0);
  return { subjects: subjects.length, questionMs, updatesPerSecond, bytesPerSubject: bytes / subjects.length };
}

/** Bytes of WAL written so far, and full-page images among them (a page's first change after a checkpoint). */
async function wal(url: string): Promise<{ bytes: number; fullPages: number }> {
  const { rows } = await onDatabase(url, (client) =>
    client.query<{ bytes: string; full_pages: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') AS bytes, wal_fpi AS full_pages FROM pg_stat_wal`),
  );
  return { bytes: Number(rows[0].bytes), fullPages: Number(rows[0].full_pages) };
}

/** Runs the projector until the read models reach `head`, then stops it: each measurement starts from a still log. */
async function projectUpTo(readModels: ProjectedReadModels, store: EventStore, head: GlobalPosition): Promise<void> {
  const projections = startProjections({ readModels, store, sweepEveryMs: 0 });
  try {
    await readModels.waitFor(head, 30 * 60_000);
  } finally {
    await projections.stop();
  }
}

/**
 * Copies every customer's rows `copies` times under `<subject id>~<k>`, in every read-model table,
 * whatever columns the migrations gave them; the ledger snapshot names its subject too.
 */
async function copyCustomers(url: string, copies: number): Promise<void> {
  await onDatabase(url, async (client) => {
    for (const table of READ_MODEL_TABLES) {
      const { rows } = await client.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
        [table],
      );
      const columns = rows.map((row) => row.column_name);
      const copied = columns.map((column) =>
        column === 'subject_id'
          ? `subject_id || '~' || k`
          : column === 'ledger'
            ? `replace(ledger, '"' || subject_id || '"', '"' || subject_id || '~' || k || '"')`
            : column,
      );
      await client.query(
        `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${copied.join(', ')} FROM ${table} CROSS JOIN generate_series(1, ${copies}) AS k`,
      );
    }
  });
}

/** A customer's history, varied by its number: what a base of customers has chosen over the years. */
function historyOf(subjectId: SubjectId, n: number, catalogue: Catalogue): LedgerCommand[] {
  const history: LedgerCommand[] = [choice(subjectId, 'StartRelationship')];
  if (n % 5 < 3) history.push(choice(subjectId, 'GiveConsent', PICKX));
  if (n % 5 < 2) history.push(choice(subjectId, 'GiveConsent', ADS_AND_DATA));
  if (n % 7 === 0) history.push(choice(subjectId, 'WithdrawConsent', ADS_AND_DATA));
  if (n % 10 === 0) history.push({ ...choice(subjectId, 'RestrictChannel'), data: { channel: 'sms' } } as LedgerCommand);
  const objectable = [...catalogue.purposes.values()].find((purpose) => purpose.legalBasis === 'legitimate-interest' && purpose.objection === 'free');
  if (n % 9 === 0 && objectable) history.push(choice(subjectId, 'Object', objectable.id));
  return history;
}

let sequence = 0;
function choice(subjectId: SubjectId, type: LedgerCommand['type'], purpose?: string): LedgerCommand {
  const now = new Date().toISOString() as Instant;
  const data = type === 'StartRelationship' ? { relationship: 'customer' } : type === 'GiveConsent' && purpose === PICKX ? { purpose, channels: ['tv-screen'] } : { purpose };
  const capture = { touchpoint: 'myproximus-app', actor: { kind: 'subject' }, occurredAt: now, recordedAt: now, idempotencyKey: `scale-${(sequence += 1)}`, noticeVersion: '2024-02-27' };
  return { type, subjectId, brand: 'proximus', capture, data } as unknown as LedgerCommand;
}

/** Commands decided and appended through the ledger, 32 at a time, each customer's in order. */
class Ledger {
  private readonly streams: LedgerStreams;

  constructor(store: EventStore, catalogue: Catalogue) {
    this.streams = new LedgerStreams(store, catalogue);
  }

  /** The position of the last event appended. */
  async run(commands: readonly LedgerCommand[]): Promise<GlobalPosition> {
    let head = 0n;
    let next = 0;
    const worker = async () => {
      while (next < commands.length) {
        const command = commands[next++];
        const key = command.capture.idempotencyKey!;
        const { handled } = await this.streams.handle(command, { client: 'bench', idempotencyKey: key, requestFingerprint: key });
        if (handled.position !== null && BigInt(handled.position) > head) head = BigInt(handled.position);
      }
    };
    await Promise.all(Array.from({ length: 32 }, worker));
    return head;
  }
}

/** `count` distinct customers, drawn at random. */
function sample<T>(from: readonly T[], count: number): T[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, from.length)) picked.add(Math.floor(Math.random() * from.length));
  return [...picked].map((i) => from[i]);
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

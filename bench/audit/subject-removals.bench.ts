// Run: npm run build && node dist/bench/audit/subject-removals.bench.js
//   BENCH_RUNS_PER_YEAR (default 365), BENCH_LISTED_PER_RUN (default 100), BENCH_REMOVED_PER_RUN (default 5),
//   BENCH_STORES (default "postgres,sqlite"),
//   TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; a schema of its own is created and dropped).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  type Instant,
  PROOF_RETENTION_RUN_SCHEMA_VERSION,
  PROOF_RETENTION_RUNS_STREAM,
  type ProofRetentionRunCompleted,
  removalDetailsOf,
  removalsOf,
  type RemovedRecord,
} from '@consent-ledger/domain';
import { type EventStore, openPostgresEventStore, openSqliteEventStore } from '@consent-ledger/event-store';
import { ledgerStreamOf } from '@consent-ledger/ledger-commands';
import { recordRemovalsOf } from '../../apps/consent-api/src/subject-export/subject-record';
import { analyzeSchema, benchDatabaseUrl as databaseUrl, onDatabase, schemaUrl } from '../support/postgres';

/**
 * What a subject's export and history pay to learn whether and when the proof-retention job removed
 * its record, after one year of daily runs and after four: the lookup of the stream's removal
 * records they make now, against, in the same run and on the same store, reading and parsing the
 * whole `proof-retention-runs` stream, as they did until 2026-11-29. Each run lists
 * BENCH_LISTED_PER_RUN removed subjects (a national operator's is nearer 1,400); BENCH_REMOVED_PER_RUN
 * of them are removed for real, with the details the job gives, so the removal records grow with
 * the years too. The subjects asked about: one removed in the first year, one never removed.
 */
const runsPerYear = Number(process.env.BENCH_RUNS_PER_YEAR ?? 365);
const listedPerRun = Number(process.env.BENCH_LISTED_PER_RUN ?? 100);
const removedPerRun = Math.min(Number(process.env.BENCH_REMOVED_PER_RUN ?? 5), listedPerRun);
const stores = (process.env.BENCH_STORES ?? 'postgres,sqlite').split(',');
const YEARS = [1, 4];
const day = (n: number) => new Date(Date.UTC(2027, 0, 1) + n * 86_400_000).toISOString() as Instant;

async function main(): Promise<void> {
  console.log(`subject removals benchmark: ${runsPerYear} runs a year, ${listedPerRun} subjects listed per run, ${removedPerRun} of them removed for real`);
  for (const kind of stores) {
    if (kind === 'postgres') await onPostgres();
    else if (kind === 'sqlite') await onSqlite();
    else throw new Error(`unknown store ${kind}`);
  }
}

async function onPostgres(): Promise<void> {
  const schema = `bench_removals_${Date.now().toString(36)}`;
  await onDatabase(databaseUrl, (client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = schemaUrl(databaseUrl, schema);
  const store = await openPostgresEventStore({ url, poolSize: 4 });
  try {
    console.log('\nPostgreSQL');
    await measureOver(store, () => analyzeSchema(databaseUrl, schema));
  } finally {
    await store.close();
    await onDatabase(databaseUrl, (client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
  }
}

async function onSqlite(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-removals-'));
  // NORMAL: the removals are setup here; what is measured are reads.
  const store = openSqliteEventStore({ file: join(directory, 'events.sqlite'), synchronous: 'NORMAL' });
  try {
    console.log('\nSQLite');
    await measureOver(store, async () => undefined);
  } finally {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

async function measureOver(store: EventStore, afterFill: () => Promise<void>): Promise<void> {
  const removedInFirstYear = 'bench-removed-0-0';
  const neverRemoved = 'bench-never-removed';
  let runsWritten = 0;
  const perYears: Array<{ years: number; lookup: number; fromRuns: number }> = [];
  for (const years of YEARS) {
    for (; runsWritten < years * runsPerYear; runsWritten++) await recordRun(store, runsWritten);
    await afterFill();
    const [expected] = removalsOf(await runsOf(store), removedInFirstYear);
    const [found] = await recordRemovalsOf(store, removedInFirstYear);
    if (JSON.stringify(found) !== JSON.stringify(expected)) throw new Error(`answers differ: ${JSON.stringify(found)} against ${JSON.stringify(expected)}`);

    const lookup = await millisPerCall(async () => {
      await recordRemovalsOf(store, removedInFirstYear);
      await recordRemovalsOf(store, neverRemoved);
    }, 1000);
    const fromRuns = await millisPerCall(async () => {
      removalsOf(await runsOf(store), removedInFirstYear);
      removalsOf(await runsOf(store), neverRemoved);
    }, 2000);
    perYears.push({ years, lookup, fromRuns });
    console.log(
      `  ${years} year(s), ${format(runsWritten)} runs listing ${format(runsWritten * listedPerRun)} removals (${format(runsWritten * removedPerRun)} removal records): ` +
        `lookup ${(lookup / 2).toFixed(3)} ms per subject, the whole runs stream ${(fromRuns / 2).toFixed(1)} ms (${(fromRuns / lookup).toFixed(0)}x)`,
    );
  }
  const [first, last] = [perYears[0], perYears[perYears.length - 1]];
  console.log(`  ${last.years} years against ${first.years}: lookup ${(last.lookup / first.lookup).toFixed(2)}x, the whole runs stream ${(last.fromRuns / first.fromRuns).toFixed(2)}x`);
}

/** One daily run as the job records it: its real removals first, each with the job's details, then its event. */
async function recordRun(store: EventStore, run: number): Promise<void> {
  const runId = randomUUID();
  const removed: RemovedRecord[] = Array.from({ length: listedPerRun }, (_, index) => ({
    subjectId: index < removedPerRun ? `bench-removed-${run}-${index}` : `bench-listed-${run}-${index}`,
    removableFrom: day(run - 1),
    eventsRemoved: 1,
  }));
  for (const each of removed.slice(0, removedPerRun)) {
    const streamName = ledgerStreamOf(each.subjectId);
    await store.append(streamName, [{ eventId: randomUUID(), type: 'ConsentGiven', schemaVersion: 1, data: { subjectId: each.subjectId } }], { expectedRevision: 'no-stream' });
    await store.removeStream(streamName, { reason: 'proof retention ended', removedAt: day(run), expectedRevision: 0, details: removalDetailsOf(runId, each) });
  }
  const data: ProofRetentionRunCompleted['data'] = {
    runId,
    startedAt: day(run),
    finishedAt: day(run),
    catalogueVersion: 'bench',
    dryRun: false,
    subjectsChecked: listedPerRun * 10,
    removed,
    failures: [],
  };
  await store.append(PROOF_RETENTION_RUNS_STREAM, [{ eventId: runId, type: 'ProofRetentionRunCompleted', schemaVersion: PROOF_RETENTION_RUN_SCHEMA_VERSION, data }], {
    expectedRevision: 'any',
  });
}

async function runsOf(store: EventStore): Promise<ProofRetentionRunCompleted[]> {
  return (await store.readStream(PROOF_RETENTION_RUNS_STREAM)).map((stored) => ({ type: 'ProofRetentionRunCompleted', data: stored.data as ProofRetentionRunCompleted['data'] }));
}

/** Mean milliseconds per call, repeating for at least `minMillis` (three calls at least, after one warm-up). */
async function millisPerCall(work: () => Promise<unknown>, minMillis: number): Promise<number> {
  await work();
  let calls = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    await work();
    calls++;
    elapsed = performance.now() - started;
  } while (elapsed < minMillis || calls < 3);
  return elapsed / calls;
}

const format = (n: number) => n.toLocaleString('en-US');

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

// Run: npm run build && node dist/bench/event-store/postgres-event-store.bench.js   (PostgreSQL on TEST_DATABASE_URL, default database `test`; BENCH_SECONDS per run, default 5; BENCH_ROUNDS, default 3)
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { openPostgresEventStore, START, type PostgresEventStore } from '@consent-ledger/event-store';
import { consentEventOfAbout500Bytes, format, measureRate, medianRate, payloadBytes, printRate, printRatio, type Rate } from './measurement';
import { benchDatabaseUrl as databaseUrl, onDatabase, schemaUrl } from '../support/postgres';

const durationMs = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const replayTarget = 200_000;

async function main(): Promise<void> {
  const schema = `bench_event_store_${Date.now().toString(36)}`;
  await onDatabase(databaseUrl, (client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = schemaUrl(databaseUrl, schema);
  try {
    await printSettings(url);
    // Baselines and appends take turns, round after round, so load from elsewhere on the machine
    // hits both alike; the ratios use the median of the rounds.
    const runs: Record<'rawOne' | 'rawSixtyFour' | 'appendOne' | 'appendSixtyFour', Rate[]> = {
      rawOne: [],
      rawSixtyFour: [],
      appendOne: [],
      appendSixtyFour: [],
    };
    const raw = await rawInserts(url);
    const store = await openPostgresEventStore({ url, poolSize: 8 });
    try {
      const append = appendsTo(store);
      await measureRate('warm-up', { concurrency: 64, durationMs: 1000 }, raw.insert);
      await measureRate('warm-up', { concurrency: 64, durationMs: 1000 }, append('warm-up'));
      for (let round = 1; round <= rounds; round += 1) {
        console.log(`round ${round}`);
        runs.rawOne.push(report(await measureRate('raw single-row INSERT, 1 connection', { concurrency: 1, durationMs }, raw.insert)));
        runs.appendOne.push(report(await measureRate('event store append, 1 writer', { concurrency: 1, durationMs }, append(`one-${round}`))));
        runs.rawSixtyFour.push(
          report(await measureRate('raw single-row INSERT, 64 connections', { concurrency: 64, durationMs }, raw.insert)),
        );
        runs.appendSixtyFour.push(
          report(await measureRate('event store append, 64 concurrent writers (grouped)', { concurrency: 64, durationMs }, append(`many-${round}`))),
        );
      }
    } finally {
      await store.close();
      await raw.close();
    }

    console.log(`\nMedians of ${rounds} rounds`);
    for (const rates of Object.values(runs)) printRate(medianRate(rates));
    console.log('\nRatios of the medians (target: ≥3× at 64 writers against the 64-connection raw rate, the honest baseline)');
    printRatio('64 writers, grouped appends vs raw INSERT on 64 connections', medianRate(runs.appendSixtyFour), medianRate(runs.rawSixtyFour));
    printRatio('64 writers, grouped appends vs raw INSERT on 1 connection', medianRate(runs.appendSixtyFour), medianRate(runs.rawOne));
    printRatio('1 writer, appends vs raw INSERT on 1 connection', medianRate(runs.appendOne), medianRate(runs.rawOne));

    await measureReplay(url);
  } finally {
    await onDatabase(databaseUrl, (client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
  }
}

async function printSettings(url: string): Promise<void> {
  const settings = await onDatabase(url, (client) =>
    client.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'wal_sync_method', 'server_version') ORDER BY name",
    ),
  );
  console.log(`PostgreSQL: ${settings.rows.map((row) => `${row.name}=${row.setting}`).join(', ')}`);
  console.log(`event data: ${payloadBytes(consentEventOfAbout500Bytes(1))} bytes of JSON; ${durationMs / 1000} s per run\n`);
}

/** Baseline: one row of the same size per INSERT, each INSERT its own autocommit transaction. */
async function rawInserts(url: string) {
  await onDatabase(url, (client) =>
    client.query(`CREATE TABLE raw_inserts (
      id bigserial PRIMARY KEY, stream_name text NOT NULL, event_id text NOT NULL,
      data jsonb NOT NULL, metadata jsonb NOT NULL, hash text NOT NULL)`),
  );
  const pool = new Pool({ connectionString: url, max: 64 });
  return {
    insert: async (loop: number, iteration: number) => {
      const event = consentEventOfAbout500Bytes(iteration);
      await pool.query('INSERT INTO raw_inserts (stream_name, event_id, data, metadata, hash) VALUES ($1, $2, $3, $4, $5)', [
        `subject-${loop}`,
        event.eventId,
        event.data,
        event.metadata,
        'f'.repeat(64),
      ]);
    },
    close: () => pool.end(),
  };
}

/** Durable appends of one event each, to a stream per writer, with an exact expected revision. */
function appendsTo(store: PostgresEventStore) {
  const revisions = new Map<string, number>();
  return (prefix: string) => async (loop: number, iteration: number) => {
    const stream = `${prefix}-subject-${loop}`;
    const result = await store.append(stream, [consentEventOfAbout500Bytes(iteration)], {
      expectedRevision: revisions.get(stream) ?? 'no-stream',
    });
    revisions.set(stream, result.nextExpectedRevision);
  };
}

function report(rate: Rate): Rate {
  printRate(rate);
  return rate;
}

/** Reads and decodes the global log from the start, as a projector rebuild would. */
async function measureReplay(url: string): Promise<void> {
  const store = await openPostgresEventStore({ url, poolSize: 4 });
  try {
    await fillTo(store, replayTarget);
    console.log(`\nReplay of ${format(Number(await store.headPosition()))} events (target ≥100,000 events/s)`);
    for (const pageSize of [1000, 5000]) {
      let after = START;
      let events = 0;
      const started = performance.now();
      for (;;) {
        const page = await store.readAll({ after, maxCount: pageSize });
        if (page.length === 0) break;
        events += page.length;
        after = page[page.length - 1].position;
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(`${`readAll, pages of ${pageSize}`.padEnd(58)} ${format(events / seconds).padStart(9)} events/s   (${events} in ${seconds.toFixed(2)} s)`);
    }
  } finally {
    await store.close();
  }
}

async function fillTo(store: PostgresEventStore, target: number): Promise<void> {
  let missing = target - Number(await store.headPosition());
  let batch = 0;
  while (missing > 0) {
    const size = Math.min(500, missing);
    await store.append(`replay-${batch}`, Array.from({ length: size }, (_, index) => consentEventOfAbout500Bytes(index)), {
      expectedRevision: 'no-stream',
    });
    missing -= size;
    batch += 1;
  }
}


main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

// Run: npm run build && node dist/bench/event-store/sqlite-event-store.bench.js   (BENCH_SECONDS per run, default 5; files under os.tmpdir())
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openSqliteEventStore, START, type SqliteEventStore } from '@consent-ledger/event-store';
import { consentEventOfAbout500Bytes, format, measureRate, payloadBytes, printRate, printRatio, type Rate } from './measurement';

const durationMs = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const replayTarget = 200_000;

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-bench-'));
  try {
    console.log(`SQLite ${sqliteVersion()}, WAL; event data ${payloadBytes(consentEventOfAbout500Bytes(1))} bytes of JSON; ${durationMs / 1000} s per run`);
    const results = new Map<string, { raw: Rate; one: Rate; sixtyFour: Rate }>();
    for (const synchronous of ['FULL', 'NORMAL'] as const) {
      console.log(`\nsynchronous=${synchronous}`);
      const file = join(directory, `events-${synchronous.toLowerCase()}.sqlite`);
      const store = openSqliteEventStore({ file, synchronous });
      try {
        const raw = await measureRawInserts(file, synchronous);
        const one = await measureAppends(store, `event store append, 1 writer`, 1);
        const sixtyFour = await measureAppends(store, `event store append, 64 concurrent async callers (grouped)`, 64);
        printRatio('1 writer, appends vs raw INSERT', one, raw);
        printRatio('64 callers, grouped appends vs raw INSERT', sixtyFour, raw);
        results.set(synchronous, { raw, one, sixtyFour });
        if (synchronous === 'FULL') await measureReplay(store);
      } finally {
        await store.close();
      }
    }
    const full = results.get('FULL')!;
    const normal = results.get('NORMAL')!;
    console.log('\nWhat synchronous=FULL costs (FULL rate / NORMAL rate)');
    printRatio('raw single-row INSERT', full.raw, normal.raw);
    printRatio('event store append, 1 writer', full.one, normal.one);
    printRatio('event store append, 64 callers', full.sixtyFour, normal.sixtyFour);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Baseline: one row of the same size per INSERT, each its own autocommit transaction, same file and pragmas. */
async function measureRawInserts(file: string, synchronous: 'FULL' | 'NORMAL'): Promise<Rate> {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec(`CREATE TABLE IF NOT EXISTS raw_inserts (
      id INTEGER PRIMARY KEY AUTOINCREMENT, stream_name TEXT NOT NULL, event_id TEXT NOT NULL UNIQUE,
      data TEXT NOT NULL, metadata TEXT NOT NULL, hash TEXT NOT NULL)`);
    const insert = db.prepare('INSERT INTO raw_inserts (stream_name, event_id, data, metadata, hash) VALUES (?, ?, ?, ?, ?)');
    // better-sqlite3 is synchronous: 64 async callers would still insert one after the other.
    const rate = await measureRate('raw single-row INSERT (autocommit)', { concurrency: 1, durationMs }, async (loop, iteration) => {
      const event = consentEventOfAbout500Bytes(iteration);
      insert.run(`subject-${loop}`, event.eventId, JSON.stringify(event.data), JSON.stringify(event.metadata), 'f'.repeat(64));
    });
    printRate(rate);
    return rate;
  } finally {
    db.close();
  }
}

async function measureAppends(store: SqliteEventStore, label: string, concurrency: number): Promise<Rate> {
  const revisions = new Map<string, number>();
  const rate = await measureRate(label, { concurrency, durationMs }, async (loop, iteration) => {
    const stream = `${concurrency}-writers-subject-${loop}`;
    const result = await store.append(stream, [consentEventOfAbout500Bytes(iteration)], {
      expectedRevision: revisions.get(stream) ?? 'no-stream',
    });
    revisions.set(stream, result.nextExpectedRevision);
  });
  printRate(rate);
  return rate;
}

async function measureReplay(store: SqliteEventStore): Promise<void> {
  let missing = replayTarget - Number(await store.headPosition());
  for (let batch = 0; missing > 0; batch += 1) {
    const size = Math.min(500, missing);
    await store.append(`replay-${batch}`, Array.from({ length: size }, (_, index) => consentEventOfAbout500Bytes(index)), {
      expectedRevision: 'no-stream',
    });
    missing -= size;
  }
  let after = START;
  let events = 0;
  const started = performance.now();
  for (;;) {
    const page = await store.readAll({ after, maxCount: 1000 });
    if (page.length === 0) break;
    events += page.length;
    after = page[page.length - 1].position;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${'replay: readAll, pages of 1000'.padEnd(58)} ${format(events / seconds).padStart(9)} events/s   (${events} in ${seconds.toFixed(2)} s)`);
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return (db.prepare('SELECT sqlite_version() AS version').get() as { version: string }).version;
  } finally {
    db.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

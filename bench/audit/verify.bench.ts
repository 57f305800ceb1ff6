// Run: npm run build && node dist/bench/audit/verify.bench.js
//   BENCH_EVENTS (default 1000000), BENCH_STREAMS (default 100000), BENCH_STORES (default "postgres,sqlite"),
//   TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; a schema of its own is created and dropped).
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type EventStore, type NewEvent, openPostgresEventStore, openSqliteEventStore, START } from '@consent-ledger/event-store';
import { benchDatabaseUrl as databaseUrl, onDatabase, schemaUrl } from '../support/postgres';

/**
 * The issue's target: `npm run audit -- verify` over 1,000,000 events finishes in under 30 s on
 * this machine. The events are ledger-sized (a ConsentGiven with sealed contact details and
 * evidence, about 700 bytes of JSON), 10 per subject stream, written through the store's own
 * append (so every hash is the store's), in batches of whole streams from many writers at once.
 * Baseline in the same run: reading every event back through `readAll` in pages, which is what
 * verify must do anyway before it hashes anything.
 */
const totalEvents = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const totalStreams = Number(process.env.BENCH_STREAMS ?? 100_000);
const stores = (process.env.BENCH_STORES ?? 'postgres,sqlite').split(',');
const TARGET_SECONDS = 30;
const WRITERS = 64;
const eventsPerStream = Math.ceil(totalEvents / totalStreams);

async function main(): Promise<void> {
  console.log(`verify benchmark: ${format(totalEvents)} events in ${format(totalStreams)} streams (${eventsPerStream} per stream), ${payloadBytes()} bytes of JSON per event`);
  for (const kind of stores) {
    if (kind === 'postgres') await onPostgres();
    else if (kind === 'sqlite') await onSqlite();
    else throw new Error(`unknown store ${kind}`);
  }
}

async function onPostgres(): Promise<void> {
  const schema = `bench_verify_${Date.now().toString(36)}`;
  await onDatabase(databaseUrl, (client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = schemaUrl(databaseUrl, schema);
  const store = await openPostgresEventStore({ url, poolSize: 8 });
  try {
    console.log('\nPostgreSQL');
    await fill(store);
    const { rows } = await onDatabase(url, (client) => client.query<{ size: string }>("SELECT pg_size_pretty(pg_total_relation_size('events')) AS size"));
    console.log(`  events table: ${rows[0].size}`);
    await measure(store);
  } finally {
    await store.close();
    await onDatabase(databaseUrl, (client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
  }
}

async function onSqlite(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'bench-verify-'));
  const file = join(directory, 'events.sqlite');
  const store = openSqliteEventStore({ file });
  try {
    console.log('\nSQLite');
    await fill(store);
    console.log(`  events file: ${(statSync(file).size / 1_048_576).toFixed(0)} MiB`);
    await measure(store);
  } finally {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Whole streams per append, from 64 writers at once: the store groups them into large transactions. */
async function fill(store: EventStore): Promise<void> {
  const started = performance.now();
  let nextStream = 0;
  let written = 0;
  let lastReport = started;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (let stream = nextStream++; stream < totalStreams; stream = nextStream++) {
        const count = Math.min(eventsPerStream, totalEvents - stream * eventsPerStream);
        if (count <= 0) continue;
        const subjectId = `bench-subject-${stream}`;
        await store.append(`consent-ledger-${subjectId}`, Array.from({ length: count }, (_, revision) => ledgerSizedEvent(subjectId, revision)), {
          expectedRevision: 'no-stream',
        });
        written += count;
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          process.stderr.write(`  filled ${format(written)} events\n`);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(`  fill: ${format(written)} events in ${seconds.toFixed(1)} s (${format(written / seconds)} events/s through append)`);
}

async function measure(store: EventStore): Promise<void> {
  const baseline = await timed(async () => {
    let after = START;
    let read = 0;
    for (;;) {
      const page = await store.readAll({ after, maxCount: 5000 });
      if (page.length === 0) return read;
      read += page.length;
      after = page[page.length - 1].position;
    }
  });
  report('baseline: read every event (readAll, pages of 5000)', baseline.result, baseline.seconds);

  let progressCalls = 0;
  const verified = await timed(() => store.verify({ onProgress: () => void (progressCalls += 1) }));
  const report_ = verified.result;
  report(`verify (whole store): ${report_.intact ? 'intact' : `BROKEN ${report_.firstBreak?.detail}`}, ${format(report_.streamsChecked)} streams`, report_.eventsChecked, verified.seconds);
  console.log(
    `  verify vs the ${TARGET_SECONDS} s target: ${verified.seconds.toFixed(1)} s (${verified.seconds < TARGET_SECONDS ? 'met' : 'MISSED'}); ${(verified.seconds / baseline.seconds).toFixed(2)}× the plain read; progress reported ${progressCalls} times`,
  );
}

function report(label: string, events: number, seconds: number): void {
  console.log(`  ${label.padEnd(72)} ${format(events).padStart(10)} events in ${seconds.toFixed(1).padStart(5)} s = ${format(events / seconds).padStart(8)} events/s`);
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - started) / 1000 };
}

/** A ConsentGiven as the API records it for a prospect met at an event: sealed contact details and evidence. */
function ledgerSizedEvent(subjectId: string, revision: number): NewEvent {
  const at = new Date(Date.UTC(2024, 0, 1) + revision * 86_400_000).toISOString();
  const sealed = (bytes: number) => `sealed:v1:${randomUUID()}:${createHash('sha512').update(`${subjectId}/${revision}/${bytes}`).digest('base64url').repeat(2).slice(0, bytes)}`;
  return {
    eventId: randomUUID(),
    type: 'ConsentGiven',
    schemaVersion: 1,
    data: {
      subjectId,
      brand: 'proximus',
      capture: {
        touchpoint: 'event',
        actor: { kind: 'agent', id: 'stand-7' },
        occurredAt: at,
        recordedAt: at,
        idempotencyKey: randomUUID(),
        noticeVersion: '2024-02-27',
        locale: 'nl-BE',
        evidenceRef: sealed(60),
      },
      purpose: 'prospect-contact-collection-events',
      channels: ['phone', 'email'],
      noticeVersion: '2024-02-27',
      locale: 'nl-BE',
      expiresAt: '2027-01-01T00:00:00.000Z',
      personalData: sealed(120),
    },
    metadata: { client: 'bench', requestFingerprint: createHash('sha256').update(`${subjectId}/${revision}`).digest('hex') },
  };
}

function payloadBytes(): number {
  const event = ledgerSizedEvent('bench-subject-0', 0);
  return Buffer.byteLength(JSON.stringify(event.data)) + Buffer.byteLength(JSON.stringify(event.metadata));
}


const format = (value: number) => Math.round(value).toLocaleString('en-US');

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

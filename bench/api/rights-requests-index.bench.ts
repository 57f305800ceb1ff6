// Run: npm run build && node dist/bench/api/rights-requests-index.bench.js
//   BENCH_SUBJECTS (default 40000), BENCH_EVENTS_PER_SUBJECT (default 5), BENCH_REQUESTS (default 500),
//   TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test; a schema of its own is created and dropped).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  evolveRightsRequest,
  initialRightsRequest,
  type Instant,
  isRightsRequestEventType,
  RIGHTS_REQUEST_STREAM_PREFIX,
  type RightsRequest,
  type RightsRequestEvent,
  type SubjectId,
} from '@consent-ledger/domain';
import { type EventStore, openPostgresEventStore, START } from '@consent-ledger/event-store';
import { ledgerStreamOf } from '@consent-ledger/ledger-commands';
import { RightsRequests } from '../../apps/consent-api/src/rights/rights-requests';
import { analyzeSchema, benchDatabaseUrl as databaseUrl, onDatabase, schemaUrl } from '../support/postgres';

/**
 * What the first list of rights requests after a start costs (`GET /v1/rights-requests`, the
 * retention job's first look): the index read from the rights-request streams found by name, as
 * now, against, in the same run and on the same store, reading the whole log to find them, as
 * until 2026-11-29. The log holds BENCH_SUBJECTS subjects of BENCH_EVENTS_PER_SUBJECT events each
 * and BENCH_REQUESTS requests received among them; a national operator's holds millions of
 * subjects and a few thousand requests, where the whole-log read grows with the subjects and the
 * streams read by name do not.
 */
const subjects = Number(process.env.BENCH_SUBJECTS ?? 40_000);
const eventsPerSubject = Number(process.env.BENCH_EVENTS_PER_SUBJECT ?? 5);
const requestCount = Number(process.env.BENCH_REQUESTS ?? 500);
const SUBJECTS_AT_ONCE = 500;
const REPEATS = 3;

async function main(): Promise<void> {
  console.log(`rights requests index benchmark: ${format(subjects)} subjects, ${format(subjects * eventsPerSubject)} subject events, ${format(requestCount)} rights requests`);
  const schema = `bench_rights_index_${Date.now().toString(36)}`;
  await onDatabase(databaseUrl, (client) => client.query(`CREATE SCHEMA ${schema}`));
  const store = await openPostgresEventStore({ url: schemaUrl(databaseUrl, schema), poolSize: 4 });
  try {
    const filling = performance.now();
    await fill(store);
    await analyzeSchema(databaseUrl, schema);
    console.log(`  filled in ${((performance.now() - filling) / 1000).toFixed(1)} s (head at ${await store.headPosition()})`);

    const expected = await fromWholeLog(store);
    const found = (await new RightsRequests(store).recordedAfter(START, requestCount + 1, () => true)).requests.map(({ request }) => request);
    if (JSON.stringify(found) !== JSON.stringify(expected)) throw new Error('the two ways index different requests');
    if (found.length !== requestCount) throw new Error(`indexed ${found.length} requests, ${requestCount} were received`);

    const wholeLog = await fastestOf(() => fromWholeLog(store));
    const byName = await fastestOf(() => new RightsRequests(store).recordedAfter(START, 100, () => true));
    console.log(`  first list after a start: streams found by name ${byName.toFixed(1)} ms, the whole log ${wholeLog.toFixed(1)} ms (${(wholeLog / byName).toFixed(0)}x)`);
  } finally {
    await store.close();
    await onDatabase(databaseUrl, (client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
  }
}

/** Subjects written SUBJECTS_AT_ONCE at a time, a rights request received every so many of them. */
async function fill(store: EventStore): Promise<void> {
  const clerk = new RightsRequests(store);
  const subjectsPerRequest = Math.max(1, Math.floor(subjects / requestCount));
  let received = 0;
  for (let first = 0; first < subjects; first += SUBJECTS_AT_ONCE) {
    const batch = Array.from({ length: Math.min(SUBJECTS_AT_ONCE, subjects - first) }, (_, index) => first + index);
    await Promise.all(
      batch.map((subject) =>
        store.append(
          ledgerStreamOf(`bench-subject-${subject}`),
          Array.from({ length: eventsPerSubject }, (_, index) => ({
            eventId: randomUUID(),
            type: 'ConsentGiven',
            schemaVersion: 1,
            data: { subjectId: `bench-subject-${subject}`, purpose: 'newsletter', sequence: index },
          })),
          { expectedRevision: 'no-stream' },
        ),
      ),
    );
    const due = batch.filter((subject) => subject % subjectsPerRequest === 0 && received < requestCount);
    for (const subject of due.slice(0, requestCount - received)) {
      await clerk.handle(
        {
          type: 'ReceiveRightsRequest',
          requestId: `bench-request-${subject}`,
          capture: { actor: { kind: 'agent', id: 'dpo-clerk-4' }, recordedAt: '2026-11-02T10:00:00.000Z' as Instant },
          data: { subjectId: `bench-subject-${subject}` as SubjectId, kind: 'access', touchpoint: 'dpo-email', receivedAt: '2026-11-01T10:00:00.000Z' as Instant },
        },
        { client: 'bench', idempotencyKey: randomUUID(), requestFingerprint: 'bench' },
      );
      received += 1;
    }
  }
}

/** The index as it was built until 2026-11-29: every event of the log read, a page of 5,000 at a time, to keep the rights requests'. */
async function fromWholeLog(store: EventStore): Promise<RightsRequest[]> {
  const index = new Map<string, RightsRequest>();
  for (let after = START; ; ) {
    const page = await store.readAll({ after, maxCount: 5000 });
    for (const stored of page) {
      if (!stored.streamName.startsWith(RIGHTS_REQUEST_STREAM_PREFIX) || !isRightsRequestEventType(stored.type)) continue;
      const requestId = stored.streamName.slice(RIGHTS_REQUEST_STREAM_PREFIX.length);
      const event = { type: stored.type, data: stored.data } as unknown as RightsRequestEvent;
      index.set(requestId, evolveRightsRequest(index.get(requestId) ?? initialRightsRequest(), event));
    }
    if (page.length < 5000) return [...index.values()];
    after = page[page.length - 1].position;
  }
}

/** The fastest of REPEATS calls, after one warm-up: the cost with the pages in PostgreSQL's cache, as on a busy server. */
async function fastestOf(work: () => Promise<unknown>): Promise<number> {
  await work();
  let fastest = Number.POSITIVE_INFINITY;
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const started = performance.now();
    await work();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

const format = (n: number) => n.toLocaleString('en-US');

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

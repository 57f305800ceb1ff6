import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { createTestSchema, describeWithPostgres, type TestSchema, withClient } from '../../../../test/support/services';
import { EMPTY_STREAM_HEAD, type StreamHead } from '../append-planning';
import { toAppendRequest } from '../append-request';
import { EventStoreUnavailable, StreamRevisionConflict } from '../errors';
import { eventually, runEventStoreContract, type Tampering } from '../event-store.contract';
import { START, type GlobalPosition, type NewEvent, type StoredEvent } from '../event-store.port';
import { openPostgresEventStore, type PostgresEventStore, type PostgresEventStoreOptions, STREAM_NAMES_BETWEEN, STREAM_NAMES_FROM } from './postgres-event-store';
import { appendGroupInOneStatement, LOCK_STREAMS_AND_LOCATE_IDS, WRITE_WITH_COUNTER, WRITE_WITH_KNOWN_HEADS } from './postgres-group-append';
import { STREAM_HEADS_MOVED } from './postgres-schema';

describeWithPostgres('PostgreSQL event store', () => {
  runEventStoreContract({
    hasDensePositions: true,
    refusesEventIdReusedInAnotherStream: true,
    writesAgainToRemovedStream: true,
    takesTurnsAcrossProcesses: true,
    async open() {
      const schema = await createTestSchema('cl_event_store');
      const instances: PostgresEventStore[] = [await openPostgresEventStore({ url: schema.url, poolSize: 4 })];
      return {
        store: instances[0],
        async reopen() {
          const instance = await openPostgresEventStore({ url: schema.url, poolSize: 4 });
          instances.push(instance);
          return instance;
        },
        tamper: tamperingWith(schema.url),
        async dispose() {
          await Promise.all(instances.map((instance) => instance.close()));
          await schema.drop();
        },
      };
    },
  });

  describe('opening', () => {
    let schema: TestSchema;
    beforeEach(async () => (schema = await createTestSchema('cl_event_store')));
    afterEach(() => schema.drop());

    it('migrates the schema exactly once when two processes start together', async () => {
      const [first, second] = await Promise.all([
        openPostgresEventStore({ url: schema.url, poolSize: 2 }),
        openPostgresEventStore({ url: schema.url, poolSize: 2 }),
      ]);
      await Promise.all([first.close(), second.close()]);

      const migrations = await withClient(schema.url, (client) => client.query('SELECT version, name FROM schema_migrations'));
      expect(migrations.rows).toEqual([
        { version: 1, name: expect.any(String) },
        { version: 2, name: expect.any(String) },
        { version: 3, name: expect.any(String) },
      ]);
    });

    it('finds by stream, through an index, the removals recorded before removal details were kept, and still verifies them', async () => {
      // A schema kept by the previous version: one removal recorded, migration 3 not yet applied.
      const before = await openPostgresEventStore({ url: schema.url, poolSize: 2 });
      await before.append('subject-1', [consentGiven(), consentGiven()], { expectedRevision: 'no-stream' });
      await before.removeStream('subject-1', { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z' });
      await before.close();
      await withClient(schema.url, (client) =>
        client.query('DROP INDEX stream_removals_by_stream; ALTER TABLE stream_removals DROP COLUMN details; DELETE FROM schema_migrations WHERE version = 3'),
      );

      const after = await openPostgresEventStore({ url: schema.url, poolSize: 2 });
      try {
        const [removal] = await after.readRemovals('subject-1');
        expect(removal).toMatchObject({ streamName: 'subject-1', lastRevision: 1, removedAt: '2031-05-01T00:00:00.000Z' });
        expect(removal).not.toHaveProperty('details');
        expect(await after.verify()).toMatchObject({ intact: true });
      } finally {
        await after.close();
      }
      const indexes = await withClient(schema.url, (client) =>
        client.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'stream_removals'"),
      );
      expect(indexes.rows.map((row) => row.indexdef)).toContainEqual(expect.stringMatching(/CREATE INDEX stream_removals_by_stream .*\(stream_name\)/));
    });

    it('reports a server it cannot reach as unavailable', async () => {
      await expect(openPostgresEventStore({ url: 'postgres://postgres@127.0.0.1:1/test' })).rejects.toBeInstanceOf(EventStoreUnavailable);
    });
  });

  describe('appending', () => {
    let schema: TestSchema;
    beforeEach(async () => (schema = await createTestSchema('cl_event_store')));
    afterEach(() => schema.drop());

    it('acknowledges an append only once its transaction has committed', async () => {
      const held = transactionHold();
      const store = await openPostgresEventStore({ url: schema.url, poolSize: 2, forTestsOnly: { beforeCommit: held.hook } });
      try {
        let isAcknowledged = false;
        const appending = store.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' }).then(() => (isAcknowledged = true));
        await held.entered;

        const visibleToOthers = await withClient(schema.url, (client) => client.query('SELECT count(*)::int AS count FROM events'));
        expect(visibleToOthers.rows[0].count).toBe(0);
        expect(isAcknowledged).toBe(false);

        held.release();
        await appending;
        expect(isAcknowledged).toBe(true);
      } finally {
        await store.close();
      }
    });

    it.each([
      ['a new stream', 'no-stream' as const, 0],
      ['an existing stream', 0, 1],
    ])('answers a retry racing with its original in another process with the original result, on %s', async (_, expected, history) => {
      const held = transactionHold();
      const retryingName = `retrying-${randomBytes(4).toString('hex')}`;
      const original = await openPostgresEventStore({ url: schema.url, poolSize: 2, forTestsOnly: { beforeCommit: held.hook } });
      const retrying = await openPostgresEventStore({ url: schema.url, poolSize: 2, applicationName: retryingName });
      try {
        if (history > 0) await retrying.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' });
        const events = [consentGiven(), consentGiven()];
        const first = original.append('subject-1', events, { expectedRevision: expected });
        await held.entered;

        const retry = retrying.append('subject-1', events, { expectedRevision: expected });
        await eventually(async () => expect(await isWaitingForALock(schema.url, retryingName)).toBe(true));
        held.release();

        expect(await retry).toEqual({ ...(await first), deduplicated: true });
        expect(await retrying.readStream('subject-1')).toHaveLength(history + 2);
      } finally {
        held.release();
        await Promise.all([original.close(), retrying.close()]);
      }
    });

    it('leaves no hole in the global positions when an append transaction rolls back', async () => {
      let isFirstCommit = true;
      const store = await openPostgresEventStore({
        url: schema.url,
        poolSize: 2,
        forTestsOnly: {
          beforeCommit: async () => {
            if (!isFirstCommit) return;
            isFirstCommit = false;
            throw new Error('the transaction fails just before COMMIT');
          },
        },
      });
      try {
        await expect(store.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' })).rejects.toThrow('just before COMMIT');

        const next = await store.append('subject-2', [consentGiven(), consentGiven()], { expectedRevision: 'no-stream' });

        expect(next.events.map((event) => event.position)).toEqual([1n, 2n]);
        expect(await store.readStream('subject-1')).toEqual([]);
        expect(await store.verify()).toMatchObject({ intact: true });
      } finally {
        await store.close();
      }
    });
  });

  describe('appending in one statement, when the heads are known', () => {
    let schema: TestSchema;
    let store: PostgresEventStore;
    let pool: Pool;
    beforeEach(async () => {
      schema = await createTestSchema('cl_event_store');
      store = await openPostgresEventStore({ url: schema.url, poolSize: 2 });
      pool = new Pool({ connectionString: schema.url, max: 1 });
    });
    afterEach(async () => {
      await pool.end();
      await store.close();
      await schema.drop();
    });
    const headOf = async (streamName: string): Promise<StreamHead> => {
      const events = await store.readStream(streamName);
      const last = events[events.length - 1];
      return last ? { revision: last.revision, hash: last.hash } : EMPTY_STREAM_HEAD;
    };

    it('extends known streams and starts new ones with the chain and positions the transaction path gives', async () => {
      await store.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' });
      const known = new Map([['subject-1', await headOf('subject-1')]]);

      const written = await appendGroupInOneStatement(
        pool,
        [toAppendRequest('subject-1', [consentGiven()], 0), toAppendRequest('subject-2', [consentGiven(), consentGiven()], 'no-stream')],
        (streamName) => known.get(streamName),
        'unheard',
      );

      expect(written?.outcomes).toEqual([
        expect.objectContaining({ streamName: 'subject-1', position: 2n, nextExpectedRevision: 1 }),
        expect.objectContaining({ streamName: 'subject-2', position: 4n, nextExpectedRevision: 1 }),
      ]);
      expect(written?.newHeads.get('subject-1')).toEqual(await headOf('subject-1'));
      expect((await store.readAll()).map((event) => [event.streamName, event.revision, event.position])).toEqual([
        ['subject-1', 0, 1n],
        ['subject-1', 1, 2n],
        ['subject-2', 0, 3n],
        ['subject-2', 1, 4n],
      ]);
      expect(await store.verify()).toMatchObject({ intact: true });
    });

    it('writes nothing of the group, and leaves no hole in the positions, when one head moved after it was known', async () => {
      await store.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' });
      const stale = new Map([['subject-1', await headOf('subject-1')]]);
      await store.append('subject-1', [consentGiven()], { expectedRevision: 0 });

      const writing = appendGroupInOneStatement(
        pool,
        [toAppendRequest('subject-2', [consentGiven()], 'no-stream'), toAppendRequest('subject-1', [consentGiven()], 0)],
        (streamName) => stale.get(streamName),
        'unheard',
      );

      await expect(writing).rejects.toMatchObject({ code: STREAM_HEADS_MOVED });
      expect(await store.readStream('subject-2')).toEqual([]);
      const next = await store.append('subject-3', [consentGiven()], { expectedRevision: 'no-stream' });
      expect(next.position).toBe(3n);
      expect(await store.verify()).toMatchObject({ intact: true });
    });

    it('leaves an append to a stream whose head it does not know to the transaction path, without a query', async () => {
      await pool.end();

      const written = await appendGroupInOneStatement(pool, [toAppendRequest('subject-1', [consentGiven()], 4)], () => undefined, 'unheard');

      expect(written).toBeUndefined();
      pool = new Pool({ connectionString: schema.url, max: 1 });
    });

    it('answers a conflict, not a broken chain, when another process appended to a stream whose head this one knew', async () => {
      const other = await openPostgresEventStore({ url: schema.url, poolSize: 2 });
      try {
        await store.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' });
        await other.append('subject-1', [consentGiven()], { expectedRevision: 0 });

        await expect(store.append('subject-1', [consentGiven()], { expectedRevision: 0 })).rejects.toBeInstanceOf(StreamRevisionConflict);
        const appended = await store.append('subject-1', [consentGiven()], { expectedRevision: 1 });

        expect(appended.nextExpectedRevision).toBe(2);
        expect(await store.verify()).toMatchObject({ intact: true });
      } finally {
        await other.close();
      }
    });
  });

  describe('plans that hold at national scale', () => {
    let schema: TestSchema;
    beforeEach(async () => (schema = await createTestSchema('cl_event_store')));
    afterEach(() => schema.drop());

    // A prepared statement keeps the plan it made first, often while the tables were empty; a
    // plan that scans every stream then costs each append a pass over millions of rows.
    it.each([
      ['the one-statement append', WRITE_WITH_KNOWN_HEADS, '(json, bigint, json, text, text[])', `('[]', 0, '[]', 'unheard', '{subject-1}')`],
      ['the transaction path: locking the streams', LOCK_STREAMS_AND_LOCATE_IDS, '(text[], text[])', `('{subject-1}', '{}')`],
      ['the transaction path: writing', WRITE_WITH_COUNTER, '(json, bigint, json, text, text[])', `('[]', 0, '[]', 'unheard', '{subject-1}')`],
    ])('finds streams through their index in %s, even with a plan made on empty tables', async (_, sql, types, values) => {
      const store = await openPostgresEventStore({ url: schema.url, poolSize: 1 });
      await store.close();

      const plan = await withClient(schema.url, async (client) => {
        await client.query('SET plan_cache_mode = force_generic_plan');
        await client.query(`PREPARE statement_under_test ${types} AS ${sql}`);
        return (await client.query(`EXPLAIN EXECUTE statement_under_test ${values}`)).rows.map((row) => row['QUERY PLAN'] as string).join('\n');
      });

      expect(plan).toMatch(/Index Scan|Index Only Scan|Bitmap Index Scan/);
      expect(plan).not.toMatch(/Seq Scan on (streams|events)\b/);
    });

    // Autovacuum analyzes a new table once it has a few dozen rows, and a plan made then (one page:
    // a scan is cheapest) is kept until the next analyze, a minute or more later. A deployment
    // loading its customers at thousands of subjects a second outgrew it within seconds, and every
    // append read every stream: throughput fell by a quarter at 20,000 streams, and kept falling.
    it('keeps reading only its own streams when the table outgrows the statistics its plans were made with', async () => {
      const store = await openPostgresEventStore({ url: schema.url, poolSize: 1 });
      let closed = false;
      try {
        for (let i = 0; i < 60; i += 1) await store.append(`subject-${i}`, [consentGiven()], { expectedRevision: 'no-stream' });
        await withClient(schema.url, (client) => client.query('ANALYZE streams'));
        for (let i = 0; i < 20; i += 1) {
          await store.append(`subject-${i}`, [consentGiven()], { expectedRevision: 0 });
          await store.append(`subject-new-${i}`, [consentGiven()], { expectedRevision: 'no-stream' });
        }
        await withClient(schema.url, (client) =>
          client.query(`INSERT INTO streams (stream_name, head_revision, head_hash) SELECT 'grown-' || n, 0, 'h' FROM generate_series(1, 100000) AS n`),
        );
        const before = await streamsTableReads(schema.url);

        for (let i = 20; i < 40; i += 1) {
          await store.append(`subject-${i}`, [consentGiven()], { expectedRevision: 0 });
          await store.append(`subject-new-${i}`, [consentGiven()], { expectedRevision: 'no-stream' });
        }
        // A session reports its table reads when it ends.
        await store.close();
        closed = true;
        let after = before;
        await eventually(async () => {
          after = await streamsTableReads(schema.url);
          if (after.indexScans === before.indexScans && after.rowsScanned === before.rowsScanned) throw new Error('the appends are not counted yet');
        });

        expect(after.indexScans).toBeGreaterThan(before.indexScans);
        expect(after.rowsScanned - before.rowsScanned).toBeLessThan(100_000);
      } finally {
        if (!closed) await store.close();
      }
    });
  });

  describe('listing streams by prefix at national scale', () => {
    let schema: TestSchema;
    beforeEach(async () => (schema = await createTestSchema('cl_event_store')));
    afterEach(() => schema.drop());

    // Millions of subject streams, a few thousand rights requests: a page of rights requests must
    // walk the primary key from the prefix, never every stream name through a filter.
    it.each([
      ['a page of names with the prefix', STREAM_NAMES_BETWEEN, '(text, text, integer, text)', `('rights-request-', '', 100, 'rights-request.')`],
      ['a page of every name', STREAM_NAMES_FROM, '(text, text, integer)', `('', 'consent-ledger-subject-1', 100)`],
    ])('walks the index of stream names for %s, in the one plan kept for every prefix', async (_, sql, types, values) => {
      const store = await openPostgresEventStore({ url: schema.url, poolSize: 1 });
      await store.close();

      const plan = await withClient(schema.url, async (client) => {
        await client.query(`INSERT INTO streams (stream_name, head_revision, head_hash)
          SELECT 'consent-ledger-subject-' || n, 0, 'h' FROM generate_series(1, 50000) AS n
          UNION ALL SELECT 'rights-request-' || n, 0, 'h' FROM generate_series(1, 200) AS n`);
        await client.query('ANALYZE streams');
        await client.query('SET plan_cache_mode = force_generic_plan');
        await client.query(`PREPARE statement_under_test ${types} AS ${sql}`);
        return (await client.query(`EXPLAIN EXECUTE statement_under_test ${values}`)).rows.map((row) => row['QUERY PLAN'] as string).join('\n');
      });

      expect(plan).toMatch(/Index (Only )?Scan using streams_pkey on streams/);
      expect(plan).toMatch(/Index Cond: .*stream_name >= \$1.*stream_name > \$2/);
      if (sql === STREAM_NAMES_BETWEEN) expect(plan).toMatch(/Index Cond: .*stream_name < \$4/);
      expect(plan).not.toMatch(/Seq Scan|Sort/);
    });
  });

  describe('reading streams under load', () => {
    let schema: TestSchema;
    beforeEach(async () => (schema = await createTestSchema('cl_event_store')));
    afterEach(() => schema.drop());

    it('gives each of many concurrent readers its own stream, including what was acknowledged just before it asked', async () => {
      const store = await openPostgresEventStore({ url: schema.url, poolSize: 4 });
      try {
        const streams = Array.from({ length: 60 }, (_, i) => `subject-${i}`);
        await Promise.all(streams.map((name, i) => store.append(name, Array.from({ length: 1 + (i % 4) }, () => consentGiven()), { expectedRevision: 'no-stream' })));

        // Each writer appends, then reads its stream back at once, while the others do the same:
        // the reads pile up behind each other and go together.
        const seen = await Promise.all(
          streams.map(async (name, i) => {
            await store.append(name, [consentGiven()], { expectedRevision: i % 4 });
            return store.readStream(name);
          }),
        );

        seen.forEach((events, i) => {
          expect(events.map((event) => event.streamName)).toEqual(Array(2 + (i % 4)).fill(streams[i]));
          expect(events.map((event) => event.revision)).toEqual(events.map((_, revision) => revision));
        });
      } finally {
        await store.close();
      }
    });

    it('gives each concurrent reader the events from its own revision on, including those acknowledged just before it asked', async () => {
      const writer = await openPostgresEventStore({ url: schema.url, poolSize: 2 });
      const reader = await openPostgresEventStore({ url: schema.url, poolSize: 2 });
      try {
        const streams = Array.from({ length: 40 }, (_, i) => `subject-${i}`);
        await Promise.all(streams.map((name) => writer.append(name, [consentGiven(), consentGiven(), consentGiven()], { expectedRevision: 'no-stream' })));

        // Another process appends, then this one reads what it lacks, many at once: the reads of
        // each stream from different revisions share queries.
        const seen = await Promise.all(
          streams.map(async (name, i) => {
            await writer.append(name, [consentGiven()], { expectedRevision: 2 });
            const [fromOne, fromThree] = await Promise.all([
              reader.readStream(name, { fromRevision: 1 + (i % 2) }),
              reader.readStream(name, { fromRevision: 3 }),
            ]);
            return { fromOne, fromThree };
          }),
        );

        seen.forEach(({ fromOne, fromThree }, i) => {
          expect(fromOne.map((event) => [event.streamName, event.revision])).toEqual(
            [1, 2, 3].filter((revision) => revision >= 1 + (i % 2)).map((revision) => [streams[i], revision]),
          );
          expect(fromThree.map((event) => [event.streamName, event.revision])).toEqual([[streams[i], 3]]);
        });
      } finally {
        await Promise.all([writer.close(), reader.close()]);
      }
    });
  });

  describe('following the log', () => {
    let schema: TestSchema;
    beforeEach(async () => (schema = await createTestSchema('cl_event_store')));
    afterEach(() => schema.drop());

    it('wakes a follower in another process through NOTIFY, long before its fallback poll', async () => {
      const follower = await openPostgresEventStore({ url: schema.url, poolSize: 2, pollIntervalMs: 600_000 });
      const writer = await openPostgresEventStore({ url: schema.url, poolSize: 2 });
      const seen: StoredEvent[] = [];
      let hasCaughtUp = false;
      const subscription = follower.subscribeToAll({
        after: START,
        onEvent: (event) => {
          seen.push(event);
        },
        onCaughtUp: () => {
          hasCaughtUp = true;
        },
      });
      try {
        await eventually(() => expect(hasCaughtUp).toBe(true));

        await writer.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' });

        await eventually(() => expect(seen).toHaveLength(1), 5000);
      } finally {
        await subscription.close();
        await Promise.all([follower.close(), writer.close()]);
      }
    });
  });

  describe('connections in pg_stat_activity', () => {
    let schema: TestSchema;
    beforeEach(async () => (schema = await createTestSchema('cl_event_store')));
    afterEach(() => schema.drop());

    // Found in review: the API names no store, and its LISTEN and lock connections showed in
    // pg_stat_activity without a name, where the README counts them.
    it('names the connection waking subscribers and the one holding a maintenance lock after the pool, unnamed by the process', async () => {
      const store = await openPostgresEventStore({ url: schema.url, poolSize: 2, pollIntervalMs: 600_000 });
      let hasCaughtUp = false;
      const subscription = store.subscribeToAll({ after: START, onEvent: () => undefined, onCaughtUp: () => (hasCaughtUp = true) });
      try {
        await eventually(() => expect(hasCaughtUp).toBe(true));
        const named = await store.exclusively('naming-check', () =>
          withClient(schema.url, async (client) =>
            (await client.query("SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'consent-ledger-event-store%'")).rows.map(
              (row) => row.application_name as string,
            ),
          ),
        );
        expect(named).toEqual(expect.arrayContaining(['consent-ledger-event-store-listen', 'consent-ledger-event-store-lock']));
      } finally {
        await subscription.close();
        await store.close();
      }
    });
  });

  describe('one total order while an earlier transaction is still open', () => {
    let schema: TestSchema;
    beforeEach(async () => (schema = await createTestSchema('cl_event_store_order')));
    afterEach(() => schema.drop());

    it('never lets a follower skip an event whose transaction commits after a later one', async () => {
      const run = await followWhileAnEarlierWriterHoldsItsTransaction(schema.url, true);

      expect(run.followerSaw).toEqual(run.logHolds);
      expect(run.logHolds).toEqual([run.earlierEventId, run.laterEventId]);
    });

    it('without the counter lock, a follower loses the earlier event for good (why the lock exists)', async () => {
      const run = await followWhileAnEarlierWriterHoldsItsTransaction(schema.url, false);

      expect(run.logHolds).toEqual([run.earlierEventId, run.laterEventId]);
      expect(run.followerSaw).toEqual([run.laterEventId]);
    });
  });
});

interface FollowerRun {
  readonly earlierEventId: string;
  readonly laterEventId: string;
  /** Event ids the live follower received, in order. */
  readonly followerSaw: string[];
  /** Event ids `readAll` returns at the end, in order. */
  readonly logHolds: string[];
}

/**
 * Writer A takes its global position, then holds its transaction open before COMMIT. Writer B
 * (another store instance, as another process would be) appends meanwhile. A follower reads the
 * log live throughout. Only once the follower has read everything visible is A let go.
 */
async function followWhileAnEarlierWriterHoldsItsTransaction(url: string, orderingProtection: boolean): Promise<FollowerRun> {
  const held = transactionHold();
  const laterWriterName = `later-writer-${randomBytes(4).toString('hex')}`;
  const options = (extra: Partial<PostgresEventStoreOptions>): PostgresEventStoreOptions => ({
    url,
    poolSize: 2,
    ...extra,
    forTestsOnly: { orderingProtection, ...extra.forTestsOnly },
  });
  const earlierWriter = await openPostgresEventStore(options({ forTestsOnly: { beforeCommit: held.hook } }));
  const laterWriter = await openPostgresEventStore(options({ applicationName: laterWriterName }));
  const reader = await openPostgresEventStore(options({}));

  const followed: StoredEvent[] = [];
  let caughtUpAt: GlobalPosition | undefined;
  const subscription = reader.subscribeToAll({
    after: START,
    onEvent: (event) => {
      followed.push(event);
    },
    onCaughtUp: (position) => {
      caughtUpAt = position;
    },
  });

  try {
    const earlier = consentGiven();
    const later = consentGiven();
    const earlierAppend = earlierWriter.append('subject-a', [earlier], { expectedRevision: 'no-stream' });
    await held.entered;

    let isLaterCommitted = false;
    const laterAppend = laterWriter.append('subject-b', [later], { expectedRevision: 'no-stream' }).then(() => (isLaterCommitted = true));
    await eventually(async () => expect(isLaterCommitted || (await isWaitingForALock(url, laterWriterName))).toBe(true));

    const visibleNow = await reader.headPosition();
    await eventually(() => expect(caughtUpAt !== undefined && caughtUpAt >= visibleNow).toBe(true));

    held.release();
    await Promise.all([earlierAppend, laterAppend]);
    const head = await reader.headPosition();
    await eventually(() => expect(caughtUpAt).toBe(head));

    return {
      earlierEventId: earlier.eventId,
      laterEventId: later.eventId,
      followerSaw: followed.map((event) => event.eventId),
      logHolds: (await reader.readAll()).map((event) => event.eventId),
    };
  } finally {
    held.release();
    await subscription.close();
    await Promise.all([earlierWriter.close(), laterWriter.close(), reader.close()]);
  }
}

/** A `beforeCommit` hook that holds the first transaction open until released. */
function transactionHold() {
  let signalEntered!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((resolve) => (signalEntered = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let isFirst = true;
  return {
    entered,
    release: () => release(),
    hook: async () => {
      if (!isFirst) return;
      isFirst = false;
      signalEntered();
      await released;
    },
  };
}

async function isWaitingForALock(url: string, applicationName: string): Promise<boolean> {
  const { rows } = await withClient(url, (client) =>
    client.query("SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [
      applicationName,
    ]),
  );
  return rows[0].waiting > 0;
}

/** Index lookups of the `streams` table, and rows read by scanning it whole, as the server has counted them so far. */
async function streamsTableReads(url: string): Promise<{ indexScans: number; rowsScanned: number }> {
  const { rows } = await withClient(url, (client) =>
    client.query<{ index_scans: string; rows_scanned: string }>(
      `SELECT coalesce(idx_scan, 0) AS index_scans, seq_tup_read AS rows_scanned FROM pg_stat_user_tables WHERE relid = 'streams'::regclass`,
    ),
  );
  return { indexScans: Number(rows[0].index_scans), rowsScanned: Number(rows[0].rows_scanned) };
}

function consentGiven(): NewEvent {
  return { eventId: randomUUID(), type: 'ConsentGiven', schemaVersion: 1, data: { purpose: 'marketing', channel: 'sms' } };
}

/** Raw SQL against the schema, the way someone with database access could edit the log. */
function tamperingWith(url: string): Tampering {
  const inTransaction = (work: (client: Client) => Promise<unknown>) =>
    withClient(url, async (client) => {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    });
  const contentColumns = ['event_id', 'type', 'schema_version', 'data', 'metadata', 'recorded_at', 'hash', 'previous_hash'];

  return {
    async setData(streamName, revision, data) {
      await inTransaction((client) =>
        client.query('UPDATE events SET data = $1 WHERE stream_name = $2 AND revision = $3', [data, streamName, revision]),
      );
    },
    async setDataAndHash(streamName, revision, data, hash) {
      await inTransaction((client) =>
        client.query('UPDATE events SET data = $1, hash = $2 WHERE stream_name = $3 AND revision = $4', [data, hash, streamName, revision]),
      );
    },
    async deleteEvent(streamName, revision) {
      await inTransaction((client) => client.query('DELETE FROM events WHERE stream_name = $1 AND revision = $2', [streamName, revision]));
    },
    async swapContents(streamName, revisionA, revisionB) {
      await inTransaction(async (client) => {
        const select = `SELECT ${contentColumns.join(', ')} FROM events WHERE stream_name = $1 AND revision = $2`;
        const [a] = (await client.query(select, [streamName, revisionA])).rows;
        const [b] = (await client.query(select, [streamName, revisionB])).rows;
        const update = `UPDATE events SET ${contentColumns.map((column, index) => `${column} = $${index + 3}`).join(', ')}
                        WHERE stream_name = $1 AND revision = $2`;
        const valuesOf = (row: Record<string, unknown>) => contentColumns.map((column) => row[column]);
        await client.query(update, [streamName, revisionA, ...valuesOf({ ...b, event_id: 'swap-in-progress' })]);
        await client.query(update, [streamName, revisionB, ...valuesOf(a)]);
        await client.query(update, [streamName, revisionA, ...valuesOf(b)]);
      });
    },
    async swapPositions(streamName, revisionA, revisionB) {
      await inTransaction(async (client) => {
        const positionOf = async (revision: number) =>
          (await client.query('SELECT position FROM events WHERE stream_name = $1 AND revision = $2', [streamName, revision])).rows[0].position;
        const a = await positionOf(revisionA);
        const b = await positionOf(revisionB);
        const move = 'UPDATE events SET position = $1 WHERE position = $2';
        await client.query(move, [-a, a]);
        await client.query(move, [a, b]);
        await client.query(move, [b, -a]);
      });
    },
    async shiftRevisions(streamName, fromRevision) {
      await inTransaction(async (client) => {
        await client.query('UPDATE events SET revision = -(revision + 1) WHERE stream_name = $1 AND revision >= $2', [streamName, fromRevision]);
        await client.query('UPDATE events SET revision = -revision WHERE stream_name = $1 AND revision < 0', [streamName]);
      });
    },
    async insertRow(event) {
      await inTransaction((client) =>
        client.query(
          `INSERT INTO events (position, stream_name, revision, event_id, type, schema_version, data, metadata, recorded_at, hash, previous_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [
            event.position.toString(),
            event.streamName,
            event.revision,
            event.eventId,
            event.type,
            event.schemaVersion,
            event.data,
            event.metadata,
            event.recordedAt,
            event.hash,
            event.previousHash,
          ],
        ),
      );
    },
    async deleteRemovalRecords(streamName) {
      await inTransaction((client) => client.query('DELETE FROM stream_removals WHERE stream_name = $1', [streamName]));
    },
    async setRemovalDetails(streamName, details) {
      await inTransaction((client) => client.query('UPDATE stream_removals SET details = $2 WHERE stream_name = $1', [streamName, JSON.stringify(details)]));
    },
  };
}

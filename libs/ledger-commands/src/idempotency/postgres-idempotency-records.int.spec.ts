import { postgresBehindProxy } from '../../../../test/support/postgres-behind-proxy';
import { createTestSchema, describeWithPostgres, type TestSchema, withClient } from '../../../../test/support/services';
import { isStorageUnavailable } from '../command-failures';
import { idempotencyRecordsContract } from '../testing/idempotency-records.contract';
import { withSessionSetting } from '@consent-ledger/event-store';
import { CLAIM_AND_SAVE, FORGET_RECORDED_BEFORE, openPostgresIdempotencyRecords } from './postgres-idempotency-records';

describeWithPostgres('PostgreSQL idempotency records', () => {
  const schemas: TestSchema[] = [];
  afterAll(() => Promise.all(schemas.map((schema) => schema.drop())));

  idempotencyRecordsContract(async () => {
    const schema = await createTestSchema('cl_idem');
    schemas.push(schema);
    return openPostgresIdempotencyRecords({ url: schema.url });
  });

  // The statement is prepared once per connection and keeps its first plan, often made while the
  // table was empty; a plan that scans the table costs every lookup a pass over all records.
  it('looks records up through the primary key, even with a plan made on an empty table', async () => {
    const schema = await createTestSchema('cl_idem');
    schemas.push(schema);
    await (await openPostgresIdempotencyRecords({ url: schema.url })).close();

    const plan = await withClient(schema.url, async (client) => {
      await client.query('SET plan_cache_mode = force_generic_plan');
      await client.query(`PREPARE statement_under_test (text[], text[], text[], timestamptz[], text[], text[], text[], int[], text[], timestamptz[], text) AS ${CLAIM_AND_SAVE}`);
      const explained = await client.query(`EXPLAIN EXECUTE statement_under_test ('{tv-menu}', '{key-1}', '{f}', '{2024-05-01T09:00:00Z}', '{}', '{}', '{}', '{}', '{}', '{}', NULL)`);
      return explained.rows.map((row) => row['QUERY PLAN'] as string).join('\n');
    });

    expect(plan).toMatch(/Index Scan using idempotency_records_pkey/);
    expect(plan).not.toMatch(/Seq Scan on idempotency_records/);
  });

  // The table holds tens of millions of records a year at the operator's scale: an hourly sweep
  // that read all of them to find the few expired would cost more than the records it forgets.
  it('finds the records to forget through the recorded_at index, not by reading the whole table', async () => {
    const schema = await createTestSchema('cl_idem');
    schemas.push(schema);
    await (await openPostgresIdempotencyRecords({ url: schema.url })).close();

    const plan = await withClient(schema.url, async (client) => {
      await client.query(`
        INSERT INTO idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at)
        SELECT 'tv-menu', 'key-' || n, 'f', 201, '{}', timestamptz '2024-05-01T09:00:00Z' + n * interval '1 second'
        FROM generate_series(1, 20000) AS n`);
      await client.query('ANALYZE idempotency_records');
      const explained = await client.query(`EXPLAIN ${FORGET_RECORDED_BEFORE.replace('$1', "'2024-05-01T09:01:00Z'").replace('$2', '10000')}`);
      return explained.rows.map((row) => row['QUERY PLAN'] as string).join('\n');
    });

    expect(plan).toMatch(/Index Scan using idempotency_records_recorded_at/);
    expect(plan).not.toMatch(/Seq Scan on idempotency_records/);
  });

  // Every API process and projector sweeps the same table, at about the same hour.
  it('forgets every old record once, and keeps the recent ones, when two processes sweep at once', async () => {
    const schema = await createTestSchema('cl_idem');
    schemas.push(schema);
    const [first, second] = await Promise.all([openPostgresIdempotencyRecords({ url: schema.url }), openPostgresIdempotencyRecords({ url: schema.url })]);
    try {
      await withClient(schema.url, (client) =>
        client.query(`
          INSERT INTO idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at)
          SELECT 'tv-menu', 'key-' || n, 'f', 201, '{}', timestamptz '2024-05-01T09:00:00Z' + n * interval '1 second'
          FROM generate_series(1, 3000) AS n`),
      );
      const sweep = async (records: typeof first) => {
        let forgotten = 0;
        for (;;) {
          const step = await records.forgetRecordedBefore('2024-05-01T09:33:20Z', 100);
          forgotten += step;
          if (step < 100) return forgotten;
        }
      };

      const [byFirst, bySecond] = await Promise.all([sweep(first), sweep(second)]);

      expect(byFirst + bySecond).toBe(1999);
      const left = await withClient(schema.url, (client) => client.query('SELECT min(recorded_at) AS oldest, count(*)::int AS count FROM idempotency_records'));
      expect(left.rows[0]).toEqual({ oldest: new Date('2024-05-01T09:33:20Z'), count: 1001 });
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  // Found with three API processes: one key with two bodies at the same moment was decided (and
  // recorded) by both, and a retry of the first then got 409.
  it('lets exactly one of two processes claiming one key at the same moment take it', async () => {
    const schema = await createTestSchema('cl_idem');
    schemas.push(schema);
    const [first, second] = await Promise.all([openPostgresIdempotencyRecords({ url: schema.url }), openPostgresIdempotencyRecords({ url: schema.url })]);
    try {
      for (let round = 0; round < 50; round += 1) {
        const claim = { client: 'call-centre', idempotencyKey: `race-${round}`, recordedAt: '2024-05-01T09:00:00.000Z' };
        const answers = await Promise.all([first.claim({ ...claim, requestFingerprint: 'a' }), second.claim({ ...claim, requestFingerprint: 'b' })]);
        expect(answers.filter((answer) => answer === undefined)).toHaveLength(1);
      }
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('opens sessions that commit asynchronously in the schema the connection string names', async () => {
    const schema = await createTestSchema('cl_idem');
    schemas.push(schema);

    const settings = await withClient(withSessionSetting(schema.url, 'synchronous_commit', 'off'), async (client) => ({
      synchronousCommit: (await client.query('SHOW synchronous_commit')).rows[0].synchronous_commit,
      schema: (await client.query('SELECT current_schema() AS schema')).rows[0].schema,
    }));

    expect(settings).toEqual({ synchronousCommit: 'off', schema: schema.schema });
  });
});

// Claims and saves go one statement at a time: a claim sent into a network cut that keeps the
// connections open held every command of the process behind it, for as long as the cut lasted
// and then until TCP's retransmission got through (found in SRE review).
describeWithPostgres('PostgreSQL idempotency records when PostgreSQL stops answering on open connections', () => {
  const ANSWER_TIMEOUT_MS = 1000;
  const claimOf = (idempotencyKey: string) => ({ client: 'call-centre', idempotencyKey, requestFingerprint: 'f', recordedAt: '2024-05-01T09:00:00.000Z' });

  it('fail the claims sent into the cut, and those queued behind them, within the answer timeout each, as storage unavailable; once it heals they claim at once', async () => {
    const database = await postgresBehindProxy('cl_idem');
    const records = await openPostgresIdempotencyRecords({ url: database.url, answerTimeoutMs: ANSWER_TIMEOUT_MS });
    try {
      expect(await records.claim(claimOf('before'))).toBeUndefined();

      database.proxy.freeze();
      const asked = Date.now();
      const sent = records.claim(claimOf('sent'));
      // A turn later, once the first claim's statement is on its way: the next one waits for it.
      await new Promise((resolve) => setImmediate(resolve));
      const cutOff = await Promise.allSettled([sent, records.claim(claimOf('queued'))]);
      // The one statement in flight, then the next one's.
      expect(Date.now() - asked).toBeLessThan(2 * ANSWER_TIMEOUT_MS + 1500);
      for (const outcome of cutOff) expect(outcome.status === 'rejected' && isStorageUnavailable(outcome.reason)).toBe(true);

      // TCP's retransmission backoff: the connections cut off stay stuck for longer than the test.
      database.proxy.heal(120_000);
      for (const key of ['after-1', 'after-2', 'after-3', 'after-4']) {
        const claimedAt = Date.now();
        expect(await records.claim(claimOf(key))).toBeUndefined();
        expect(Date.now() - claimedAt).toBeLessThan(ANSWER_TIMEOUT_MS);
      }
    } finally {
      await database.proxy.restore();
      await records.close();
      await database.close();
    }
  });
});

import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { postgresBehindProxy, type PostgresBehindProxy } from '../../../../test/support/postgres-behind-proxy';
import { describeWithPostgres } from '../../../../test/support/services';
import { EventStoreUnavailable } from '../errors';
import type { NewEvent } from '../event-store.port';
import { AnswerNotHeard, watchAnswers } from './answer-watch';
import { checkOutClient } from './pool-clients';
import { openPostgresEventStore, type PostgresEventStore } from './postgres-event-store';
import { ADVISORY_LOCK_SPACE } from './postgres-schema';

const SILENCE_TIMEOUT_MS = 1000;
/** Room for the test's own work on a busy two-core machine. */
const MARGIN_MS = 1500;

// The auditor CLI's statements had no limit: with PostgreSQL silent (a network cut that leaves
// the connections open, a hung server), `npm run audit -- verify` waited for ever (found in review).
describeWithPostgres('the PostgreSQL event store with a silence timeout, for a process nobody is there to stop', () => {
  let database: PostgresBehindProxy;
  let store: PostgresEventStore;
  beforeEach(async () => {
    database = await postgresBehindProxy('cl_answer_watch');
    store = await openPostgresEventStore({ url: database.url, poolSize: 2, silenceTimeoutMs: SILENCE_TIMEOUT_MS });
    await store.append('subject-1', [consentGiven(), consentGiven()], { expectedRevision: 'no-stream' });
  });
  afterEach(async () => {
    await database.proxy.restore();
    await store.close();
    await database.close();
  });

  it('gives up a verify whose answer was lost within the timeout, when PostgreSQL says it is no longer working on it', async () => {
    const sent = database.proxy.loseAnswersAfter('REPEATABLE READ');
    const asked = Date.now();
    const verifying = store.verify();
    await sent;

    const failure = await verifying.catch((error: unknown) => error);
    expect(Date.now() - asked).toBeLessThan(SILENCE_TIMEOUT_MS + MARGIN_MS);
    expect(failure).toBeInstanceOf(EventStoreUnavailable);
    expect((failure as EventStoreUnavailable).cause).toBeInstanceOf(AnswerNotHeard);
    // Closed, never given back: the pool's next statements go through.
    expect(await store.verify()).toMatchObject({ intact: true, eventsChecked: 2 });
  });

  it('gives up a verify within the timeout when PostgreSQL stops answering altogether, a probe included', async () => {
    const sent = database.proxy.loseAnswersAfter('REPEATABLE READ');
    const asked = Date.now();
    const verifying = store.verify();
    await sent;
    database.proxy.freeze();

    await expect(verifying).rejects.toBeInstanceOf(EventStoreUnavailable);
    expect(Date.now() - asked).toBeLessThan(SILENCE_TIMEOUT_MS + MARGIN_MS);
  });

  it('gives up a stream read sent into a cut within the timeout', async () => {
    database.proxy.freeze();
    const asked = Date.now();
    await expect(store.readStream('subject-1')).rejects.toBeInstanceOf(EventStoreUnavailable);
    expect(Date.now() - asked).toBeLessThan(SILENCE_TIMEOUT_MS + MARGIN_MS);
  });

  it('waits as long as it takes for a lock another session holds longer than the timeout: PostgreSQL says it is working on it', async () => {
    const holder = new Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1, hashtext(current_schema() || $2))', [ADVISORY_LOCK_SPACE, ':retention']);
      const asked = Date.now();
      const running = store.exclusively('retention', async () => Date.now() - asked);
      // Another run holding the lock for three timeouts.
      setTimeout(() => void holder.query('SELECT pg_advisory_unlock_all()'), 3 * SILENCE_TIMEOUT_MS);
      expect(await running).toBeGreaterThanOrEqual(3 * SILENCE_TIMEOUT_MS - 100);
    } finally {
      await holder.end();
    }
  });
});

function consentGiven(): NewEvent {
  return { eventId: randomUUID(), type: 'ConsentGiven', schemaVersion: 1, data: { purpose: 'marketing', channel: 'sms' } };
}

// checkOutClient counts a statement answered when the promise it is given settles, and with the
// watch underneath that is the watch's: a statement the watch gave up, its socket destroyed,
// counted as answered, so a client released without an error went back to the pool dead, and the
// next checkout got it (found in review; latent while the callers releasing without an error, on
// opening the event store and the vault's migration, ended their pool right after).
describeWithPostgres('a pooled client whose statement the silence watch gave up', () => {
  let database: PostgresBehindProxy;
  let pool: Pool;
  beforeEach(async () => {
    database = await postgresBehindProxy('cl_answer_watch');
    pool = new Pool({ connectionString: database.url, max: 1 });
    pool.on('error', () => undefined);
    pool.on('connect', (client) => watchAnswers(client, { url: database.url, timeoutMs: SILENCE_TIMEOUT_MS }));
  });
  afterEach(async () => {
    await database.proxy.restore();
    await pool.end();
    await database.close();
  });

  it('is closed when released without an error: the next checkout gets a connection that answers', async () => {
    const client = await checkOutClient(pool);
    const sent = database.proxy.loseAnswersAfter('pg_sleep');
    const asked = client.query('SELECT pg_sleep(0)');
    await sent;
    try {
      await expect(asked).rejects.toBeInstanceOf(AnswerNotHeard);
    } finally {
      // As a caller's `finally { client.release() }` does, before the destroyed socket has closed.
      client.release();
    }

    const next = await checkOutClient(pool);
    try {
      expect((await next.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      next.release();
    }
  });
});

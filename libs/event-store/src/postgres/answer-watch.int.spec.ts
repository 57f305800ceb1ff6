import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { postgresBehindProxy, type PostgresBehindProxy } from '../../../../test/support/postgres-behind-proxy';
import { describeWithPostgres } from '../../../../test/support/services';
import { EventStoreUnavailable } from '../errors';
import type { NewEvent } from '../event-store.port';
import { AnswerNotHeard } from './answer-watch';
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

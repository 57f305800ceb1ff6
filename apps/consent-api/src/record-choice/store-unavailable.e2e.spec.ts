import { Client } from 'pg';
import { createTestSchema, describeWithPostgres, postgresTestUrl, type TestSchema, uniqueName, withClient } from '../../../../test/support/services';
import { postgresBehindProxy, type PostgresBehindProxy } from '../../../../test/support/postgres-behind-proxy';
import { commandJson, newSubjectId, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

/** Waits for a condition, polling, until a deadline: no fixed sleeps. */
async function eventually<T>(probe: () => Promise<T>, isDone: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (isDone(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('when the SQLite store is gone', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
    await api.store.close();
  });
  afterAll(() => api.close());

  it('answers commands 503 with Retry-After and no stack trace', async () => {
    const response = await api.command(commandJson.restrictChannel(newSubjectId()), { idempotencyKey: 'while-down' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(response.body).toEqual({ error: 'unavailable', message: expect.any(String), requestId: response.headers.get('x-request-id') });
    expect(JSON.stringify(response.body)).not.toMatch(/\bat \w|\.ts:\d+|node_modules/);
  });

  it('answers decisions 503 and reports itself not ready', async () => {
    expect((await api.call('GET', `/v1/subjects/${newSubjectId()}/decision?purpose=newsletter-customers`)).status).toBe(503);
    const health = await api.call('GET', '/health', { key: TEST_KEYS.reader });
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'unavailable', store: { kind: 'sqlite', ready: false } });
  });
});

describeWithPostgres('when PostgreSQL goes away and comes back', () => {
  let database: PostgresBehindProxy;
  let api: TestApi;
  beforeAll(async () => {
    database = await postgresBehindProxy('cl_down');
    api = await startTestApi('sqlite', { eventStore: 'postgres', databaseUrl: database.url });
  });
  afterAll(async () => {
    await database.proxy.restore().catch(() => undefined);
    await api.close();
    await database.close();
  });

  it('answers 503 with Retry-After while it is down, records nothing, and records again once it is back', async () => {
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.startRelationship(subjectId))).status).toBe(201);

    await database.proxy.cut();
    const whileDown = await api.command(commandJson.restrictChannel(subjectId), { idempotencyKey: 'during-outage' });
    expect(whileDown.status).toBe(503);
    expect(whileDown.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(whileDown.body).toEqual({ error: 'unavailable', message: expect.any(String), requestId: whileDown.headers.get('x-request-id') });
    expect((await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=newsletter-customers`)).status).toBe(503);
    expect((await api.call('GET', '/health', { key: null })).status).toBe(503);

    await database.proxy.restore();
    const afterwards = await eventually(
      () => api.command(commandJson.restrictChannel(subjectId), { idempotencyKey: 'during-outage' }),
      (response) => response.status !== 503,
    );
    expect(afterwards.status).toBe(201);
    const history = await api.call('GET', `/v1/subjects/${subjectId}/history`);
    expect(history.body.events.map((event: { type: string }) => event.type)).toEqual(['RelationshipStarted', 'ChannelRestricted']);
  });
});

// A database that answers nothing (a table locked by a stuck session) left requests hanging for as
// long as it lasted, and /health said ready: a channel system's call must end, with a 503 it can retry.
describeWithPostgres('when another session holds the log locked', () => {
  let schema: TestSchema;
  let api: TestApi;
  let locker: Client;
  beforeAll(async () => {
    schema = await createTestSchema('cl_lock');
    api = await startTestApi('sqlite', { eventStore: 'postgres', databaseUrl: schema.url });
    locker = new Client({ connectionString: schema.url });
    await locker.connect();
  });
  afterAll(async () => {
    await locker.query('ROLLBACK').catch(() => undefined);
    await locker.end();
    await api.close();
    await schema.drop();
  });

  it('answers 503 with Retry-After within seconds instead of waiting, and records once the lock is gone', async () => {
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.startRelationship(subjectId))).status).toBe(201);

    await locker.query('BEGIN');
    await locker.query('LOCK TABLE events IN ACCESS EXCLUSIVE MODE');
    const asked = Date.now();
    const whileLocked = await api.command(commandJson.restrictChannel(subjectId), { idempotencyKey: 'while-locked' });
    expect(whileLocked.status).toBe(503);
    expect(whileLocked.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Date.now() - asked).toBeLessThan(15_000);
    await locker.query('ROLLBACK');

    expect((await api.command(commandJson.restrictChannel(subjectId), { idempotencyKey: 'while-locked' })).status).toBe(201);
  }, 30_000);
});

// A database closed to new sessions (ALTER DATABASE … ALLOW_CONNECTIONS false for maintenance, or
// dropped to be restored from a backup) refuses each connection with an error of severity FATAL
// whose SQLSTATE is none of the connection classes: every request was answered 500, "a fault of
// ours", with nothing to tell a channel system to retry, while /health already said unavailable.
describeWithPostgres('when PostgreSQL refuses sessions on the database', () => {
  const database = uniqueName('cl_closed').toLowerCase();
  const databaseUrl = (name: string) => Object.assign(new URL(postgresTestUrl()), { pathname: `/${name}` }).toString();
  const onServer = <T>(sql: string) => withClient(databaseUrl('postgres'), (client) => client.query(sql) as Promise<T>);
  const allowSessions = (allowed: boolean) => onServer(`ALTER DATABASE ${database} ALLOW_CONNECTIONS ${allowed}`);
  let api: TestApi;
  beforeAll(async () => {
    await onServer(`CREATE DATABASE ${database}`);
    api = await startTestApi('sqlite', { eventStore: 'postgres', databaseUrl: databaseUrl(database), projector: 'off' });
  });
  afterAll(async () => {
    await allowSessions(true).catch(() => undefined);
    await api?.close();
    await onServer(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('answers 503 with Retry-After while it refuses them, and records again once it takes them', async () => {
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.startRelationship(subjectId))).status).toBe(201);

    await allowSessions(false);
    await onServer(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database}'`);
    const whileClosed = await api.command(commandJson.restrictChannel(subjectId), { idempotencyKey: 'while-closed' });
    expect(whileClosed.status).toBe(503);
    expect(whileClosed.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(whileClosed.body).toEqual({ error: 'unavailable', message: expect.any(String), requestId: whileClosed.headers.get('x-request-id') });
    const decision = await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=newsletter-customers`);
    expect(decision.status).toBe(503);
    expect(decision.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await api.call('GET', '/health', { key: null })).status).toBe(503);

    await allowSessions(true);
    const afterwards = await eventually(
      () => api.command(commandJson.restrictChannel(subjectId), { idempotencyKey: 'while-closed' }),
      (response) => response.status !== 503,
    );
    expect(afterwards.status).toBe(201);
    const history = await api.call('GET', `/v1/subjects/${subjectId}/history`);
    expect(history.body.events.map((event: { type: string }) => event.type)).toEqual(['RelationshipStarted', 'ChannelRestricted']);
  }, 60_000);
});

// A network cut that drops packets rather than refusing them leaves a new connection waiting for
// the server's first answer: a decision asked once the pool's idle connections had closed waited
// until PostgreSQL gave up on the session (authentication_timeout, 60 s here; the operating system's
// connect timeout, about two minutes, when the server is out of reach) before its 503.
describeWithPostgres('when PostgreSQL stops answering new connections', () => {
  let database: PostgresBehindProxy;
  let api: TestApi;
  beforeAll(async () => {
    database = await postgresBehindProxy('cl_silent');
    api = await startTestApi('sqlite', { eventStore: 'postgres', databaseUrl: database.url, projector: 'off' });
  });
  afterAll(async () => {
    await database.proxy.restore();
    await api.close();
    await database.close();
  });

  it('answers a decision 503 with Retry-After within seconds, and 200 once it answers again', async () => {
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.startRelationship(subjectId))).status).toBe(201);
    const decisionPath = `/v1/subjects/${subjectId}/decision?purpose=newsletter-customers`;

    database.proxy.freeze();
    // The pool closes connections idle for 10 s: the next read needs a new one.
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    const asked = Date.now();
    const whileSilent = await api.call('GET', decisionPath);
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(whileSilent.status).toBe(503);
    expect(whileSilent.headers.get('retry-after')).toMatch(/^\d+$/);

    await database.proxy.restore();
    const afterwards = await eventually(() => api.call('GET', decisionPath), (response) => response.status !== 503);
    expect(afterwards.status).toBe(200);
  }, 90_000);
});

import { Client } from 'pg';
import { consentFeedOf } from '@consent-ledger/read-models';
import { eventually } from '../../../projector/src/testing/topic-reader';
import { PostgresReadModelStorage } from '../../../../libs/read-models/src/storage/postgres/postgres-read-model-storage';
import { describeWithPostgres, withClient } from '../../../../test/support/services';
import { postgresBehindProxy, type PostgresBehindProxy } from '../../../../test/support/postgres-behind-proxy';
import { commandJson, newSubjectId, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

/**
 * With PROJECTOR=off another process keeps the read models. When it stops, commands still go
 * through and /health stays ready, but campaign questions wait: the operator must see why.
 */
describe('/health and the read models', () => {
  let api: TestApi | undefined;
  afterEach(() => api?.close());

  const health = async () => (await api!.call('GET', '/health', { key: TEST_KEYS.reader })).body;

  it('says the read models are behind the log while no process keeps them', async () => {
    api = await startTestApi('sqlite', { projector: 'off' });
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.startRelationship(subjectId))).status).toBe(201);
    const answer = await health();
    expect(answer.status).toBe('ready');
    expect(answer.readModels.upToDate).toBe(false);
    expect(BigInt(answer.readModels.position)).toBeLessThan(BigInt(answer.readModels.logPosition));
    expect(answer.readModels.logPosition).toBe(String(await api.store.headPosition()));
  });

  it('says they are up to date once the projector in this process has applied the log', async () => {
    api = await startTestApi('sqlite');
    expect((await api.command(commandJson.startRelationship(newSubjectId()))).status).toBe(201);
    const head = String(await api.store.headPosition());
    await eventually(async () => (await health()).readModels.upToDate, 'the read models to catch up', 10_000);
    expect((await health()).readModels).toEqual({ upToDate: true, position: head, logPosition: head });
  });

  it('lists no Kafka feed in the embedded mode, which publishes to none', async () => {
    api = await startTestApi('sqlite');
    expect((await api.command(commandJson.startRelationship(newSubjectId()))).status).toBe(201);
    expect((await health()).feeds).toEqual([]);
  });
});

/**
 * /health answers anyone who can reach it, load balancers and `npm start` users' curl alike. Its
 * details named the projector instances (`hostname-pid` by default), the Kafka topic prefixes, the
 * feeds' positions, and a `logPosition` counting every choice ever recorded (found in security
 * review): a caller without a key learns only whether the service is ready. The operator's own
 * systems, each of which holds a key, still read the details.
 */
describe('/health with and without a key', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi('sqlite');
    expect((await api.command(commandJson.startRelationship(newSubjectId()))).status).toBe(201);
  });
  afterAll(() => api.close());

  it('tells a caller without a key that it is ready, and nothing else', async () => {
    const answer = await api.call('GET', '/health', { key: null });
    expect([answer.status, answer.body]).toEqual([200, { status: 'ready' }]);
  });

  it('tells a caller with a key of any scope the store, the read models and the feeds', async () => {
    const logPosition = String(await api.store.headPosition());
    for (const key of Object.values(TEST_KEYS)) {
      const answer = await api.call('GET', '/health', { key });
      expect([answer.status, answer.body]).toEqual([
        200,
        { status: 'ready', store: { kind: 'sqlite', ready: true }, readModels: expect.objectContaining({ upToDate: expect.any(Boolean), logPosition }), keyScrub: { state: 'done' }, feeds: [], retiredFeeds: [] },
      ]);
    }
  });

  it('answers 401 to a key it does not know, or a header that is not a bearer key, as every route does', async () => {
    const answers = await Promise.all([
      api.call('GET', '/health', { key: 'not-a-key-anyone-was-given' }),
      api.call('GET', '/health', { key: null, headers: { authorization: `Basic ${TEST_KEYS.admin}` } }),
    ]);
    for (const answer of answers) expect([answer.status, answer.body, answer.headers.get('www-authenticate')]).toEqual([401, { error: 'unauthorized' }, 'Bearer']);
  });
});

/**
 * The projector publishing the topics has no HTTP surface of its own. A feed that stalls (broker
 * unreachable, no instance leading it, waiting on catalogue rules) left every check green while
 * partners stopped hearing of changes: /health tells each feed's progress and leader, as the
 * projector records them in the read-model database (written here through a connection of its own,
 * as a projector process would).
 */
describeWithPostgres('/health and the Kafka feeds', () => {
  let api: TestApi;
  let projector: PostgresReadModelStorage;
  beforeAll(async () => {
    api = await startTestApi('postgres', { projector: 'off' });
    projector = await PostgresReadModelStorage.open({ url: api.config.databaseUrl!, poolSize: 1 });
  });
  afterAll(async () => {
    await projector.close();
    await api.close();
  });

  const health = () => api.call('GET', '/health', { key: TEST_KEYS.reader });

  it("tells each feed's position, how far behind the log it is and who leads it, stays ready while one is behind, and shows no leader once the lease ran out", async () => {
    const [caughtUp, stalled] = [consentFeedOf(''), consentFeedOf('eu.')];
    for (let subject = 0; subject < 3; subject += 1) expect((await api.command(commandJson.startRelationship(newSubjectId()))).status).toBe(201);
    const head = await api.store.headPosition();
    // Each feed makes its outbox cursor when it starts.
    for (const feed of [caughtUp, stalled]) await projector.followStateChanges(feed);
    await projector.tryLease(caughtUp, 'projector-a', 60_000);
    await projector.saveCheckpoint(caughtUp, head, { role: caughtUp, holder: 'projector-a' });
    await projector.tryLease(stalled, 'projector-b', 60_000);
    await projector.saveCheckpoint(stalled, head - 2n, { role: stalled, holder: 'projector-b' });

    const answer = await health();
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('ready');
    expect(answer.body.feeds).toEqual([
      { name: 'consent-feed', position: String(head), behind: '0', leader: 'projector-a' },
      { name: 'consent-feed:eu.', position: String(head - 2n), behind: '2', leader: 'projector-b' },
    ]);

    // projector-b stops renewing (killed, paused, cut off from the database): its lease runs out.
    await projector.tryLease(stalled, 'projector-b', 1);
    await eventually(async () => (await health()).body.feeds[1].leader === null, 'the lease to run out', 5_000);
    const afterwards = await health();
    expect(afterwards.status).toBe(200);
    expect(afterwards.body.feeds).toEqual([
      { name: 'consent-feed', position: String(head), behind: '0', leader: 'projector-a' },
      { name: 'consent-feed:eu.', position: String(head - 2n), behind: '2', leader: null },
    ]);
  });

  // Found in review: after a topic prefix was renamed, the old feed's rows stayed, and /health
  // listed it for ever as a feed nobody led, further behind with every event: alerts that never ended.
  it('lists a feed retired for good (its outbox cursor deleted, as read-models.md tells) apart from the feeds to alert on, and stays ready', async () => {
    const [renamed, successor] = [consentFeedOf('old.'), consentFeedOf('new.')];
    const head = await api.store.headPosition();
    for (const feed of [renamed, successor]) {
      await projector.followStateChanges(feed);
      await projector.saveCheckpoint(feed, head);
    }
    await projector.tryLease(successor, 'projector-new', 60_000);
    await withClient(api.config.databaseUrl!, (client) => client.query('DELETE FROM rm_checkpoints WHERE name = $1', [`outbox:${renamed}`]));
    expect((await api.command(commandJson.startRelationship(newSubjectId()))).status).toBe(201);

    const answer = await health();
    expect([answer.status, answer.body.status]).toEqual([200, 'ready']);
    expect(answer.body.feeds).toContainEqual({ name: 'consent-feed:new.', position: String(head), behind: '1', leader: 'projector-new' });
    expect(answer.body.feeds.map(({ name }: { name: string }) => name)).not.toContain('consent-feed:old.');
    expect(answer.body.retiredFeeds).toEqual(['consent-feed:old.']);
  });

  it('names no feed, topic prefix, projector instance or position to a caller without a key', async () => {
    const feed = consentFeedOf('private.');
    await projector.tryLease(feed, 'projector-c', 60_000);
    await projector.saveCheckpoint(feed, await api.store.headPosition(), { role: feed, holder: 'projector-c' });
    expect((await health()).body.feeds).toContainEqual(expect.objectContaining({ name: 'consent-feed:private.', leader: 'projector-c' }));

    const anonymous = await api.call('GET', '/health', { key: null });
    expect([anonymous.status, anonymous.body]).toEqual([200, { status: 'ready' }]);
  });
});

// Found on a loaded machine: the rewrite that scrubs a destroyed key's bytes from the key table's
// file keeps them while a transaction older than the erasure runs in the database (a report, a
// dump), and nothing told the operator, who had been told that erased meant gone from the files.
describeWithPostgres('/health and the bytes of destroyed personal-data keys', () => {
  let api: TestApi;
  let report: Client;
  beforeAll(async () => {
    api = await startTestApi('postgres', { projector: 'off' });
    report = new Client({ connectionString: api.config.databaseUrl, application_name: 'nightly-report' });
    await report.connect();
  });
  afterAll(async () => {
    await report.end();
    await api.close();
  });

  it("names the session whose transaction, begun before an erasure, keeps the erased subject's key on disk, and stays ready", async () => {
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.startRelationship(subjectId, { capture: { evidenceRef: 'call-recording-0042' } }))).status).toBe(201);
    await report.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await report.query('SELECT 1');
    const [{ pid }] = (await report.query('SELECT pg_backend_pid() AS pid')).rows;
    try {
      expect((await api.command(commandJson.eraseSubject(subjectId))).status).toBe(201);

      const answer = await api.call('GET', '/health', { key: TEST_KEYS.reader });
      expect([answer.status, answer.body.status]).toEqual([200, 'ready']);
      expect(answer.body.keyScrub).toEqual({
        state: 'pending',
        owedSince: expect.any(String),
        heldBy: expect.arrayContaining([{ kind: 'session', pid, applicationName: 'nightly-report', backendType: 'client backend', transactionStartedAt: expect.any(String) }]),
      });
      expect(JSON.stringify(answer.body)).not.toContain(subjectId);
      expect((await api.call('GET', '/health', { key: null })).body).toEqual({ status: 'ready' });
    } finally {
      await report.query('COMMIT');
    }
  });
});

// A database that stops answering without closing its connections (a network cut, a frozen host)
// left /health waiting on `SELECT 1` for as long as it lasted: a probe with a timeout read no
// answer, a liveness probe restarted every API process for a fault of the database's, and an
// operator's curl hung.
describeWithPostgres('/health when PostgreSQL stops answering', () => {
  let database: PostgresBehindProxy;
  let api: TestApi;
  beforeAll(async () => {
    database = await postgresBehindProxy('cl_health');
    api = await startTestApi('sqlite', { eventStore: 'postgres', databaseUrl: database.url, projector: 'off' });
  });
  afterAll(async () => {
    await database.proxy.restore();
    await api.close();
    await database.close();
  });

  it('answers 503 with Retry-After within a second, and ready again once the database answers', async () => {
    expect((await api.call('GET', '/health', { key: null })).status).toBe(200);

    database.proxy.freeze();
    const asked = Date.now();
    const whileFrozen = await fetch(`${api.url}/health`, { headers: { authorization: `Bearer ${TEST_KEYS.reader}` }, signal: AbortSignal.timeout(5_000) });
    expect(Date.now() - asked).toBeLessThan(1_000);
    expect(whileFrozen.status).toBe(503);
    expect(whileFrozen.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = await whileFrozen.json();
    expect(body).toMatchObject({ status: 'unavailable', store: { kind: 'postgres', ready: false, detail: expect.any(String) }, readModels: { upToDate: false, detail: expect.any(String) } });
    // Not `[]`: that would say no feed exists, when the database could not tell.
    expect(body).not.toHaveProperty('feeds');

    // A load balancer's probe sends no key: the same status and Retry-After, within the same second.
    const probedAt = Date.now();
    const probe = await fetch(`${api.url}/health`, { signal: AbortSignal.timeout(5_000) });
    expect(Date.now() - probedAt).toBeLessThan(1_000);
    expect([probe.status, probe.headers.get('retry-after'), await probe.json()]).toEqual([503, expect.stringMatching(/^\d+$/), { status: 'unavailable' }]);

    await database.proxy.restore();
    await eventually(async () => (await api.call('GET', '/health', { key: null })).status === 200, 'the API to be ready again', 10_000);
  }, 30_000);

  // The probe under way when the database went away was shared by every later call: when its
  // connection never answered again (a host failed over after taking the query, a firewall that
  // lost the connection), /health said unavailable for ever, though new connections were answered.
  it('is ready again once the database answers new connections, though a probe is lost on a connection that never answers', async () => {
    expect((await api.call('GET', '/health', { key: null })).status).toBe(200);

    database.proxy.freeze();
    expect((await api.call('GET', '/health', { key: null })).status).toBe(503);
    database.proxy.strandOpenConnections();

    await eventually(async () => (await api.call('GET', '/health', { key: null })).status === 200, 'the API to be ready again', 20_000);
    expect((await api.call('GET', '/health', { key: TEST_KEYS.reader })).body).toMatchObject({ status: 'ready', readModels: { logPosition: expect.any(String) } });
  }, 40_000);

  // /health quoted the driver's message: the database's host and port (`connect ECONNREFUSED
  // 10.0.3.4:5432`), its name, its user (`password authentication failed for user "consent"`),
  // then to anyone; the details are now for key holders, and a key of a channel system is no
  // reason to show them either. It names the failure's classes and codes instead, as the log does.
  it('names the failure by its code, not the database host, port or name, to a caller with a key, and not at all to one without', async () => {
    await database.proxy.cut();
    let body: { store: { detail?: string }; readModels: { detail?: string } } | undefined;
    // The connections open when it was cut end without a code; a new one is then refused.
    await eventually(async () => {
      body = (await api.call('GET', '/health', { key: TEST_KEYS.reader })).body;
      return [body!.store.detail, body!.readModels.detail].every((detail) => detail?.includes('ECONNREFUSED'));
    }, 'new connections to be refused', 10_000);
    expect(body).toMatchObject({ status: 'unavailable', store: { ready: false } });
    expect(JSON.stringify(body)).not.toContain(String(database.proxy.port));
    expect(JSON.stringify(body)).not.toContain('127.0.0.1');
    expect((await api.call('GET', '/health', { key: null })).body).toEqual({ status: 'unavailable' });

    await database.proxy.restore();
    await eventually(async () => (await api.call('GET', '/health', { key: null })).status === 200, 'the API to be ready again', 10_000);
  }, 30_000);
});

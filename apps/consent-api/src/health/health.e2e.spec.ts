import { eventually } from '../../../projector/src/testing/topic-reader';
import { createTestSchema, describeWithPostgres, type TestSchema } from '../../../../test/support/services';
import { startTcpProxy, type TcpProxy } from '../testing/tcp-proxy';
import { commandJson, newSubjectId, startTestApi, type TestApi } from '../testing/test-api';

/**
 * With PROJECTOR=off another process keeps the read models. When it stops, commands still go
 * through and /health stays ready, but campaign questions wait: the operator must see why.
 */
describe('/health and the read models', () => {
  let api: TestApi | undefined;
  afterEach(() => api?.close());

  const health = async () => (await api!.call('GET', '/health', { key: null })).body;

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
});

// A database that stops answering without closing its connections (a network cut, a frozen host)
// left /health waiting on `SELECT 1` for as long as it lasted: a probe with a timeout read no
// answer, a liveness probe restarted every API process for a fault of the database's, and an
// operator's curl hung.
describeWithPostgres('/health when PostgreSQL stops answering', () => {
  let schema: TestSchema;
  let proxy: TcpProxy;
  let api: TestApi;
  beforeAll(async () => {
    schema = await createTestSchema('cl_health');
    const target = new URL(schema.url);
    proxy = await startTcpProxy(Number(target.port || 5432));
    target.port = String(proxy.port);
    api = await startTestApi('sqlite', { eventStore: 'postgres', databaseUrl: target.toString(), projector: 'off' });
  });
  afterAll(async () => {
    await proxy.restore();
    await api.close();
    await proxy.close();
    await schema.drop();
  });

  it('answers 503 with Retry-After within a second, and ready again once the database answers', async () => {
    expect((await api.call('GET', '/health', { key: null })).status).toBe(200);

    proxy.freeze();
    const asked = Date.now();
    const whileFrozen = await fetch(`${api.url}/health`, { signal: AbortSignal.timeout(5_000) });
    expect(Date.now() - asked).toBeLessThan(1_000);
    expect(whileFrozen.status).toBe(503);
    expect(whileFrozen.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await whileFrozen.json()).toMatchObject({ status: 'unavailable', store: { kind: 'postgres', ready: false, detail: expect.any(String) }, readModels: { upToDate: false } });

    await proxy.restore();
    await eventually(async () => (await api.call('GET', '/health', { key: null })).status === 200, 'the API to be ready again', 10_000);
  }, 30_000);
});

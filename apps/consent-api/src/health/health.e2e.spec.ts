import { eventually } from '../../../projector/src/testing/topic-reader';
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

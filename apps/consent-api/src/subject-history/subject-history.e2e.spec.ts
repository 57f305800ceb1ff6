import { describeWithPostgres } from '../../../../test/support/services';
import { commandJson, newSubjectId, type StoreKind, startTestApi, type TestApi } from '../testing/test-api';

function listingHistory(kind: StoreKind) {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(kind);
  });
  afterAll(() => api.close());

  it('lists the history with evidence, positions and a hash chain', async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.startRelationship(subjectId));
    await api.command(commandJson.giveConsent(subjectId, { capture: { noticeVersion: '2024-02-27', evidenceRef: 'call-2024-77' } }));

    const history = await api.call('GET', `/v1/subjects/${subjectId}/history`);
    const [started, consented] = history.body.events;
    expect(history.body.subjectId).toBe(subjectId);
    expect(started).toMatchObject({ type: 'RelationshipStarted', revision: 0, previousHash: '0'.repeat(64), schemaVersion: 1 });
    expect(consented).toMatchObject({ type: 'ConsentGiven', revision: 1, previousHash: started.hash });
    expect(BigInt(consented.position)).toBeGreaterThan(BigInt(started.position));
    expect(consented.data.capture).toMatchObject({ touchpoint: 'myproximus-web', noticeVersion: '2024-02-27', evidenceRef: expect.stringMatching(/^sealed:v1:/) });
    expect(JSON.stringify(history.body)).not.toContain('call-2024-77');
  });

  it('answers an empty history for a subject it never heard of', async () => {
    const subjectId = newSubjectId();
    expect((await api.call('GET', `/v1/subjects/${subjectId}/history`)).body).toEqual({ subjectId, events: [] });
  });
}

describe('listing a subject history on SQLite', () => listingHistory('sqlite'));
describeWithPostgres('listing a subject history on PostgreSQL', () => listingHistory('postgres'));

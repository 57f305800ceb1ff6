import { join } from 'node:path';
import { ledgerStream } from '../../../../libs/read-models/src/testing/stored-events';
import { postgresTampering, sqliteTampering } from '../../../../test/rights/support/raw-tampering';
import { describeWithPostgres } from '../../../../test/support/services';
import { commandJson, newSubjectId, type StoreKind, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

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
    expect((await api.call('GET', `/v1/subjects/${subjectId}/history`)).body).toEqual({
      subjectId,
      events: [],
      integrity: { streamName: ledgerStream(subjectId), intact: true, eventsChecked: 0 },
    });
  });

  // Found in review: after a consent's date was edited in the database, the history and the
  // timeline read as any other, while the export said intact: false and the CLI's history warned.
  it('says, in the history and in the timeline, where the hash chain breaks once someone edited the log', async () => {
    const subjectId = newSubjectId();
    const streamName = ledgerStream(subjectId);
    await api.command(commandJson.startRelationship(subjectId, { capture: { occurredAt: '2024-01-01T09:00:00Z' } }));
    const consented = await api.command(commandJson.giveConsent(subjectId, { capture: { occurredAt: '2024-05-01T09:00:00Z' } }));
    const intact = { streamName, intact: true, eventsChecked: 2 };
    expect((await api.call('GET', `/v1/subjects/${subjectId}/history`, { key: TEST_KEYS.auditor })).body.integrity).toEqual(intact);
    expect((await api.call('GET', `/v1/subjects/${subjectId}/timeline`, { key: TEST_KEYS.auditor })).body.integrity).toEqual(intact);

    const tamper = kind === 'postgres' ? postgresTampering(api.config.databaseUrl!) : sqliteTampering(join(api.config.dataDir, 'events.sqlite'));
    await tamper.editOccurredAt(streamName, 1, '2024-04-01T09:00:00.000Z');

    const broken = {
      streamName,
      intact: false,
      eventsChecked: 1,
      firstBreak: { kind: 'altered', streamName, revision: 1, position: consented.body.position, detail: expect.stringContaining('no longer matches its hash') },
    };
    const history = await api.call('GET', `/v1/subjects/${subjectId}/history`, { key: TEST_KEYS.auditor });
    expect(history.status).toBe(200);
    expect(history.body.integrity).toEqual(broken);
    const timeline = await api.call('GET', `/v1/subjects/${subjectId}/timeline`, { key: TEST_KEYS.auditor });
    expect(timeline.status).toBe(200);
    expect(timeline.body.integrity).toEqual(broken);
  });
}

describe('listing a subject history on SQLite', () => listingHistory('sqlite'));
describeWithPostgres('listing a subject history on PostgreSQL', () => listingHistory('postgres'));

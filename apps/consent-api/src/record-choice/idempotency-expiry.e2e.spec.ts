import { describeWithPostgres } from '../../../../test/support/services';
import { LedgerStorage } from '../ledger/ledger-storage';
import { MovableClock } from '../testing/movable-clock';
import { commandJson, newSubjectId, type StoreKind, startTestApi, type TestApi } from '../testing/test-api';

const DAY = 86_400_000;

function forgettingIdempotencyRecords(kind: StoreKind) {
  const clock = new MovableClock();
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(kind, { idempotencyRetentionMs: 30 * DAY }, { clock });
  });
  afterAll(() => api.close());

  /** The hourly sweep, run now rather than waited for. */
  const sweep = () => api.app.get(LedgerStorage).idempotencySweep.sweep();

  it('still answers a retry of an appended command with its first events once its record is forgotten, and records nothing new', async () => {
    const json = commandJson.giveConsent(newSubjectId());
    const first = await api.command(json, { idempotencyKey: 'expiry-appended' });
    clock.moveOn(31 * DAY);
    expect(await sweep()).toBeGreaterThan(0);
    const head = await api.store.headPosition();

    const retry = await api.command(json, { idempotencyKey: 'expiry-appended' });

    expect(first.status).toBe(201);
    expect([retry.status, retry.body]).toEqual([201, first.body]);
    expect(retry.headers.get('idempotency-replayed')).toBe('true');
    expect(await api.store.headPosition()).toBe(head);
  });

  it('takes the key of a refused command for another request once the refusal is older than the retention, where it answered 409 before', async () => {
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.endRelationship(subjectId), { idempotencyKey: 'expiry-refused' })).status).toBe(422);
    expect((await api.command(commandJson.startRelationship(subjectId), { idempotencyKey: 'expiry-refused' })).status).toBe(409);

    clock.moveOn(31 * DAY);
    await sweep();

    const reused = await api.command(commandJson.startRelationship(subjectId), { idempotencyKey: 'expiry-refused' });
    expect(reused.status).toBe(201);
    expect(reused.body.events).toEqual([expect.objectContaining({ type: 'RelationshipStarted' })]);
  });

  it('keeps refusing the key with another request while the record is younger than the retention', async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.endRelationship(subjectId), { idempotencyKey: 'expiry-young' });

    clock.moveOn(29 * DAY);
    await sweep();

    expect((await api.command(commandJson.startRelationship(subjectId), { idempotencyKey: 'expiry-young' })).status).toBe(409);
  });

  // The command's events keep its key and fingerprint, and their ids derive from the subject.
  it('keeps refusing the key of an appended command with another request for the same subject, from the log, once its record is forgotten', async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.restrictChannel(subjectId, { channel: 'sms' }), { idempotencyKey: 'expiry-same-subject' });

    clock.moveOn(31 * DAY);
    expect(await sweep()).toBeGreaterThan(0);

    const reused = await api.command(commandJson.restrictChannel(subjectId, { channel: 'email' }), { idempotencyKey: 'expiry-same-subject' });
    expect(reused.status).toBe(409);
    expect(reused.body).toEqual({ error: 'idempotency-key-reused', message: expect.any(String) });
  });
}

describe('forgetting idempotency records over HTTP on SQLite', () => forgettingIdempotencyRecords('sqlite'));
describeWithPostgres('forgetting idempotency records over HTTP on PostgreSQL', () => forgettingIdempotencyRecords('postgres'));

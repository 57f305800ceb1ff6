import { LEDGER_RULES } from '@consent-ledger/domain';
import { describeWithPostgres } from '../../../../test/support/services';
import { LedgerStorage } from '../ledger/ledger-storage';
import { CONSENT_PURPOSE, commandJson, type Json, newSubjectId, type StoreKind, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

function commandsAfterAnErasure(kind: StoreKind) {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(kind);
  });
  afterAll(() => api.close());

  const byTheDpo = (evidenceRef?: string): Json => ({ touchpoint: 'dpo-email', actor: { kind: 'agent', id: 'dpo-1' }, ...(evidenceRef !== undefined && { evidenceRef }) });
  const historyOf = async (subjectId: string) => ((await api.call('GET', `/v1/subjects/${subjectId}/history`)).body.events as Json[]).map((event) => event.type);
  const erased = async () => {
    const subjectId = newSubjectId('erased');
    expect((await api.command(commandJson.giveConsent(subjectId, { capture: { evidenceRef: 'call-2026-0041' } }))).status).toBe(201);
    expect((await api.command(commandJson.eraseSubject(subjectId, { capture: byTheDpo() }))).status).toBe(201);
    return subjectId;
  };

  // Found across sessions: the refused consent's evidence was sealed first, under a key made anew
  // for the erased subject, which then stayed in the key store.
  it('refuses a consent that brings evidence as the erasure refuses it, records nothing, and keeps no key for the subject', async () => {
    const subjectId = await erased();

    const refused = await api.command(commandJson.giveConsent(subjectId, { capture: { evidenceRef: 'call-2026-0042' } }));
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({ error: 'subject-erased', message: LEDGER_RULES['subject-erased'] });
    expect(await historyOf(subjectId)).toEqual(['ConsentGiven', 'SubjectErased']);
    expect(await api.app.get(LedgerStorage).vault.hasKey(subjectId)).toBe(false);
    const exported = await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor });
    expect(exported.body).toMatchObject({ personalData: 'erased', choices: [{ evidence: { reference: 'erased' } }, { type: 'SubjectErased' }] });
  });

  it('answers a repeated erasure that brings evidence as a repeat, recording nothing', async () => {
    const subjectId = await erased();

    const repeated = await api.command(commandJson.eraseSubject(subjectId, { capture: byTheDpo('dpo-ticket-2026-17') }));
    expect(repeated.status).toBe(200);
    expect(repeated.body).toMatchObject({ subjectId, events: [] });
    expect(await historyOf(subjectId)).toEqual(['ConsentGiven', 'SubjectErased']);
  });

  // Found in review: refused however often it was sent, so the months before the erasure kept "allowed".
  it('records a withdrawal made before the erasure that reaches it afterwards, for the days between', async () => {
    const subjectId = newSubjectId('erased');
    const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
    expect((await api.command(commandJson.startRelationship(subjectId, { capture: { occurredAt: hoursAgo(4) } }))).status).toBe(201);
    expect((await api.command(commandJson.giveConsent(subjectId, { capture: { occurredAt: hoursAgo(3) } }))).status).toBe(201);
    expect((await api.command(commandJson.eraseSubject(subjectId, { capture: { ...byTheDpo(), occurredAt: hoursAgo(1) } }))).status).toBe(201);

    const onPaper = await api.command(commandJson.withdrawConsent(subjectId, { capture: { occurredAt: hoursAgo(2) } }));
    expect(onPaper.status).toBe(201);
    const decisionAt = async (hours: number) =>
      (await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=${CONSENT_PURPOSE}&at=${encodeURIComponent(hoursAgo(hours))}`)).body;
    expect([await decisionAt(2.5), await decisionAt(1.5)]).toMatchObject([{ allowed: true }, { allowed: false, reason: 'consent-withdrawn' }]);
    expect(await historyOf(subjectId)).toEqual(['RelationshipStarted', 'ConsentGiven', 'SubjectErased', 'ConsentWithdrawn']);
  });
}

describe('commands after an erasure, over HTTP on SQLite', () => commandsAfterAnErasure('sqlite'));
describeWithPostgres('commands after an erasure, over HTTP on PostgreSQL', () => commandsAfterAnErasure('postgres'));

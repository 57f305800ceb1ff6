import { join } from 'node:path';
import type { SubjectId } from '@consent-ledger/domain';
import { subjectErased } from '@consent-ledger/domain/testing';
import { asNewEvent, ledgerStream } from '../../../../libs/read-models/src/testing/stored-events';
import { postgresTampering, type RawTampering, sqliteTampering } from '../../../../test/rights/support/raw-tampering';
import { describeWithPostgres } from '../../../../test/support/services';
import { LedgerStorage } from '../ledger/ledger-storage';
import { commandJson, MOTIVATED_PURPOSE, newSubjectId, type StoreKind, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

const PROSPECTING = 'prospect-contact-collection-events';
const contact = { name: 'Jana Peeters', email: 'jana.peeters@example.be', phone: '+32470123456' };

describe('the subject export over HTTP', () => {
  let api: TestApi;
  beforeAll(async () => (api = await startTestApi()));
  afterAll(() => api.close());

  const metAtAnEvent = async (subjectId: string) => {
    const recorded = await api.command({
      type: 'GiveConsent',
      subjectId,
      purpose: PROSPECTING,
      contact,
      capture: { touchpoint: 'event', actor: { kind: 'agent', id: 'stand-7' }, noticeVersion: '2024-02-27', locale: 'nl-BE', evidenceRef: 'signed-form-2024-0042' },
    });
    expect(recorded.status).toBe(201);
  };

  it("gives every choice with its evidence in clear while the subject's key exists, to a key with personal-data:read", async () => {
    const subjectId = newSubjectId('export');
    await metAtAnEvent(subjectId);
    await api.call('POST', '/v1/rights-requests', { body: { subjectId, kind: 'access', touchpoint: 'dpo-email', receivedAt: new Date().toISOString() } });
    const exported = await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.admin });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('cache-control')).toBe('no-store');
    expect(exported.body).toMatchObject({
      format: 'consent-ledger/subject-export',
      formatVersion: 1,
      subjectId,
      personalData: 'readable',
      choices: [
        {
          type: 'ConsentGiven',
          decision: 'consent-given',
          touchpoint: 'event',
          method: 'recorded-by-agent',
          details: { purpose: PROSPECTING, channels: ['phone', 'email'], noticeVersion: '2024-02-27' },
          evidence: { reference: 'signed-form-2024-0042', contact },
        },
      ],
      receipts: [expect.objectContaining({ decision: 'consent-given', sealedEvidence: ['evidenceRef', 'personalData'] })],
      rightsRequests: [expect.objectContaining({ subjectId, kind: 'access', status: 'open' })],
      integrity: { intact: true, eventsChecked: 1 },
    });
    const decision = exported.body.currentPreferences.purposes.find((purpose: { purpose: string }) => purpose.purpose === PROSPECTING);
    expect(decision).toMatchObject({ allowed: true, reason: 'consent-active' });
  });

  // Found in review: history:read, every auditor's scope, opened every subject's personal data in bulk.
  it('withholds the personal data from a key without personal-data:read, and gives the rest of the proof', async () => {
    const subjectId = newSubjectId('export');
    await metAtAnEvent(subjectId);
    const exported = await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('cache-control')).toBe('no-store');
    expect(exported.body).toMatchObject({
      personalData: 'withheld',
      choices: [
        {
          type: 'ConsentGiven',
          touchpoint: 'event',
          actor: { kind: 'agent', id: 'stand-7' },
          details: { purpose: PROSPECTING, channels: ['phone', 'email'], noticeVersion: '2024-02-27' },
          evidence: { reference: 'withheld', contact: 'withheld' },
        },
      ],
      receipts: [expect.objectContaining({ decision: 'consent-given', sealedEvidence: ['evidenceRef', 'personalData'] })],
      integrity: { intact: true, eventsChecked: 1 },
    });
    expect(JSON.stringify(exported.body)).not.toMatch(/jana|Peeters|\+32470123456|signed-form-2024-0042/i);
  });

  it('withholds a motivated objection\'s justification from a key without personal-data:read', async () => {
    const subjectId = newSubjectId('export');
    await api.command(commandJson.object(subjectId, { purpose: MOTIVATED_PURPOSE, justification: 'My neighbour Jana works there.' }));
    const withheld = (await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor })).body;
    const opened = (await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.admin })).body;
    expect([withheld.personalData, withheld.choices[0].evidence]).toEqual(['withheld', { justification: 'withheld' }]);
    expect([opened.personalData, opened.choices[0].evidence]).toEqual(['readable', { justification: 'My neighbour Jana works there.' }]);
  });

  it('shows the personal data as erased after the subject was erased, and keeps the pseudonymous record', async () => {
    const subjectId = newSubjectId('export');
    await metAtAnEvent(subjectId);
    expect((await api.command({ type: 'EraseSubject', subjectId, capture: { touchpoint: 'dpo-email', actor: { kind: 'agent', id: 'dpo-1' } } })).status).toBe(201);
    const exported = await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor });
    expect(exported.body).toMatchObject({
      personalData: 'erased',
      erasure: { basis: 'gdpr-art-17-request' },
      choices: [{ evidence: { reference: 'erased', contact: 'erased' }, details: { purpose: PROSPECTING } }, { type: 'SubjectErased' }],
    });
    expect(JSON.stringify(exported.body)).not.toContain('jana');

    // Found in review: a refused command sealing evidence made a new key, and the export then said "readable".
    const refused = await api.command(commandJson.endRelationship(subjectId, { capture: { evidenceRef: 'call-2026-REF-999' } }));
    expect(refused.body).toMatchObject({ error: 'subject-erased' });
    expect((await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor })).body.personalData).toBe('erased');
  });

  // Found in review: an erasure whose key destroy failed after it was in the log exported the
  // contact details in clear under "personalData": "erased".
  it('shows nothing in clear once the erasure is in the log, before its key is destroyed', async () => {
    const subjectId = newSubjectId('export');
    await metAtAnEvent(subjectId);
    // The erasure as the log holds it, its key not yet destroyed (a destroy still to come, or cut off).
    await api.store.append(ledgerStream(subjectId), [asNewEvent(subjectErased({ subjectId: subjectId as SubjectId }))], { expectedRevision: 'any' });
    const exported = await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor });
    expect(exported.body).toMatchObject({ personalData: 'erased', choices: [{ evidence: { reference: 'erased', contact: 'erased' } }, { type: 'SubjectErased' }] });
    expect(JSON.stringify(exported.body)).not.toContain('jana');
  });

  // Found in review: a subject never erased, whose key the key store lacks, was exported as "erased".
  it('says the personal data is unreadable, not erased, when the key store lacks the key of a subject never erased', async () => {
    const subjectId = newSubjectId('export');
    await metAtAnEvent(subjectId);
    // As a proof-retention run leaves it when it drops the key and must then keep the stream.
    await api.app.get(LedgerStorage).vault.forgetSubject(subjectId);
    const exported = await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.admin });
    expect(exported.status).toBe(200);
    expect(exported.body).toMatchObject({ personalData: 'unreadable', choices: [{ evidence: { reference: 'unreadable', contact: 'unreadable' } }] });
    expect(exported.body.erasure).toBeUndefined();
  });

  // Found in review: the record of a former customer recorded again as a prospect could go in
  // 2031, nine years before the legal-defence archive's window closed, and the export no longer
  // said the subject had been a customer.
  it("keeps a former customer's record recorded again as a prospect until the contract's windows close, and shows both relationships", async () => {
    const subjectId = newSubjectId();
    const at = (occurredAt: string) => ({ capture: { occurredAt } });
    await api.command(commandJson.startRelationship(subjectId, at('2020-01-01T00:00:00Z')));
    await api.command(commandJson.endRelationship(subjectId, at('2025-01-01T00:00:00Z')));
    await api.command(commandJson.startRelationship(subjectId, { relationship: 'prospect', ...at('2026-06-01T00:00:00Z') }));
    await api.command(commandJson.endRelationship(subjectId, at('2026-07-01T00:00:00Z')));

    const exported = await api.call('GET', `/v1/subjects/${subjectId}/export`);
    expect(exported.body.proofRetention.removableFrom).toBe('2040-01-01T00:00:00.000Z');
    expect(exported.body.relationships).toEqual([
      { brand: 'proximus', relationship: 'customer', segment: 'residential', status: 'former', since: '2025-01-01T00:00:00.000Z' },
      { brand: 'proximus', relationship: 'prospect', segment: 'residential', status: 'former', since: '2026-07-01T00:00:00.000Z' },
    ]);
  });

  // Found in review: such a consent showed as in force for ever, and the record was never removable.
  it('keeps the proof of a Pickx-ads consent five years after the contract it was given under ended', async () => {
    const subjectId = newSubjectId();
    const at = (occurredAt: string) => ({ capture: { occurredAt } });
    await api.command(commandJson.startRelationship(subjectId, at('2003-01-01T00:00:00Z')));
    await api.command(commandJson.giveConsent(subjectId, at('2004-01-01T00:00:00Z')));
    await api.command(commandJson.endRelationship(subjectId, at('2006-01-01T00:00:00Z')));

    const { proofRetention } = (await api.call('GET', `/v1/subjects/${subjectId}/export`)).body;
    expect(proofRetention.holds).toContainEqual(expect.objectContaining({ reason: 'consent-proof', until: '2011-01-01T00:00:00.000Z' }));
    expect(proofRetention.holds).toContainEqual(expect.objectContaining({ reason: 'relationship-proof', until: '2021-01-01T00:00:00.000Z' }));
    // Received today, the record stays five years from now whatever its dates.
    expect(proofRetention.removableFrom > new Date(Date.now() + 4 * 365 * 86_400_000).toISOString()).toBe(true);
  });

  const purposeIn = (preferences: { purposes: Array<{ purpose: string }> }, purpose: string) => preferences.purposes.find((each) => each.purpose === purpose);

  // Found in review: the preferences were always Proximus's, so a Scarlet customer's Pickx consent read "no-relationship".
  it("gives a customer of another brand that brand's preferences, as the decision for that brand answers", async () => {
    const subjectId = newSubjectId('scar');
    await api.command(commandJson.startRelationship(subjectId, { brand: 'scarlet' }));
    await api.command(commandJson.giveConsent(subjectId, { brand: 'scarlet' }));

    const { currentPreferences } = (await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor })).body;
    const decision = (await api.call('GET', `/v1/subjects/${subjectId}/decision?purpose=targeted-tv-advertising-pickx&brand=scarlet`)).body;
    expect(decision).toMatchObject({ allowed: true, reason: 'consent-active' });
    expect(currentPreferences.brand).toBe('scarlet');
    expect(purposeIn(currentPreferences, 'targeted-tv-advertising-pickx')).toMatchObject({ allowed: true, reason: 'consent-active' });
    expect(currentPreferences.otherBrands).toBeUndefined();
  });

  it("gives a customer of both brands each brand's preferences, the latest contract's brand first, as the state topic does", async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.startRelationship(subjectId, { capture: { occurredAt: '2020-01-01T00:00:00Z' } }));
    await api.command(commandJson.startRelationship(subjectId, { brand: 'scarlet', capture: { occurredAt: '2024-01-01T00:00:00Z' } }));

    const { currentPreferences } = (await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor })).body;
    expect(currentPreferences.brand).toBe('scarlet');
    expect(purposeIn(currentPreferences, 'enjoy-loyalty-programme')).toMatchObject({ allowed: false, reason: 'not-applicable-to-brand' });
    expect(currentPreferences.otherBrands).toEqual([{ brand: 'proximus', purposes: expect.any(Array) }]);
    expect(purposeIn(currentPreferences.otherBrands[0], 'enjoy-loyalty-programme')).toMatchObject({ allowed: true, reason: 'legitimate-interest' });
  });

  it("gives a Proximus customer who subscribed on a Scarlet touchpoint Scarlet's preferences too, as the state topic does", async () => {
    const subjectId = newSubjectId();
    await api.command(commandJson.startRelationship(subjectId));
    expect((await api.command(commandJson.giveConsent(subjectId, { brand: 'scarlet', purpose: 'newsletter-prospects', channels: ['email'] }))).status).toBe(201);

    const { currentPreferences } = (await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor })).body;
    expect(currentPreferences.brand).toBe('proximus');
    expect(currentPreferences.otherBrands).toEqual([{ brand: 'scarlet', purposes: expect.any(Array) }]);
    expect(purposeIn(currentPreferences.otherBrands[0], 'newsletter-prospects')).toMatchObject({ allowed: true, reason: 'consent-active' });
  });

  it("keeps the brand of a Scarlet user's choice when the DPO reviews it under the default brand, as the state topic does", async () => {
    const subjectId = newSubjectId();
    expect((await api.command(commandJson.object(subjectId, { brand: 'scarlet', purpose: MOTIVATED_PURPOSE, justification: 'Not my app usage.' }))).status).toBe(201);
    expect((await api.command(commandJson.reviewObjection(subjectId, { capture: { touchpoint: 'dpo-email', actor: { kind: 'agent', id: 'dpo-7' } } }))).status).toBe(201);

    const { currentPreferences } = (await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor })).body;
    expect(currentPreferences.brand).toBe('scarlet');
  });

  it('is an empty record for a subject the ledger never heard of', async () =>
    expect((await api.call('GET', `/v1/subjects/${newSubjectId()}/export`, { key: TEST_KEYS.auditor })).body).toMatchObject({ personalData: 'none', choices: [], receipts: [] }));

  it('is refused to a key without history:read', async () =>
    expect((await api.call('GET', `/v1/subjects/${newSubjectId()}/export`, { key: TEST_KEYS.reader })).status).toBe(403));
});

/** The one case the export's `integrity` is there for: someone with write access edited the log. */
function exportingABrokenChain(kind: StoreKind) {
  let api: TestApi;
  let tamper: RawTampering;
  beforeAll(async () => {
    api = await startTestApi(kind);
    tamper = kind === 'postgres' ? postgresTampering(api.config.databaseUrl!) : sqliteTampering(join(api.config.dataDir, 'events.sqlite'));
  });
  afterAll(() => api.close());

  // Found in review: the break's global position is a bigint, and the export answered 500
  // ("Do not know how to serialize a BigInt") exactly when its integrity check found something.
  it('answers 200 and names the altered event, with its position in decimal as every answer gives positions', async () => {
    const subjectId = newSubjectId('export');
    const streamName = ledgerStream(subjectId);
    await api.command(commandJson.startRelationship(subjectId, { capture: { occurredAt: '2024-01-01T09:00:00Z' } }));
    const consented = await api.command(commandJson.giveConsent(subjectId, { capture: { occurredAt: '2024-05-01T09:00:00Z' } }));
    await tamper.editOccurredAt(streamName, 1, '2024-04-01T09:00:00.000Z');

    const exported = await api.call('GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.auditor });
    expect(exported.status).toBe(200);
    expect(exported.body.integrity).toEqual({
      streamName,
      intact: false,
      eventsChecked: expect.any(Number),
      firstBreak: { kind: 'altered', streamName, revision: 1, position: consented.body.position, detail: expect.stringContaining('no longer matches its hash') },
    });
  });
}

describe('the subject export of a tampered stream over HTTP, on SQLite', () => exportingABrokenChain('sqlite'));
describeWithPostgres('the subject export of a tampered stream over HTTP, on PostgreSQL', () => exportingABrokenChain('postgres'));

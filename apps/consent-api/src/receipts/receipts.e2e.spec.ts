import { addDuration, type ConsentReceipt, type Duration, type Instant, loadCatalogue } from '@consent-ledger/domain';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newSubjectId, REPOSITORY_ROOT, startTestApi, TEST_KEYS, type TestApi } from '../testing/test-api';

const catalogue = loadCatalogue(JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'catalogues/proximus.json'), 'utf8')));
const consentPurposes = [...catalogue.purposes.values()].filter((purpose) => purpose.legalBasis === 'consent' || purpose.otherLegalBases.includes('consent'));

describe('consent receipts over HTTP', () => {
  let api: TestApi;
  beforeAll(async () => (api = await startTestApi()));
  afterAll(() => api.close());

  const occurredAt = new Date(Date.now() - 3_600_000).toISOString() as Instant;

  describe.each(consentPurposes.map((purpose) => [purpose.id, purpose]))('a consent to %s', (_, purpose) => {
    let receipt: ConsentReceipt;
    let eventId: string;
    let subjectId: string;

    beforeAll(async () => {
      subjectId = newSubjectId('receipt');
      const recorded = await api.command({
        type: 'GiveConsent',
        subjectId,
        purpose: purpose.id,
        capture: { touchpoint: 'myproximus-app', actor: { kind: 'subject' }, occurredAt, noticeVersion: '2024-02-27', locale: 'nl-BE' },
      });
      expect(recorded.status).toBe(201);
      eventId = recorded.body.events[0].id;
      const answer = await api.call('GET', `/v1/subjects/${subjectId}/receipts/${eventId}`, { key: TEST_KEYS.auditor });
      expect(answer.status).toBe(200);
      receipt = answer.body;
    });

    it('identifies the record, its schema, the subject and the jurisdiction', () =>
      expect(receipt).toMatchObject({ recordId: eventId, version: 'KI-CR-v1.1.0', schemaVersion: '1.1', eventSchemaVersion: 1, subjectId, jurisdiction: 'BE' }));

    it('names the controller, and the joint controllers exactly where the purpose has them', () => {
      expect(receipt.controller).toEqual({ ...catalogue.definition.controller, role: 'controller' });
      expect(receipt.jointControllers.map((party) => party.id)).toEqual(purpose.jointControllers);
      for (const party of receipt.jointControllers) expect(party).toEqual({ ...catalogue.definition.jointControllers.find((each) => each.id === party.id), role: 'joint-controller' });
    });

    it('states the purpose, its category, legal basis, recipients, retention and how to withdraw', () =>
      expect(receipt.purposes).toEqual([
        {
          id: purpose.id,
          name: purpose.name,
          description: purpose.description,
          section: purpose.section,
          category: purpose.category,
          legalBasis: purpose.legalBasis,
          jointControllers: purpose.jointControllers,
          recipients: purpose.recipients,
          retention: {
            data: purpose.retention,
            proof: purpose.proofRetention ?? catalogue.definition.proofRetention,
            proofKeptUntil: purpose.consentValidity ? addDuration(addDuration(occurredAt, purpose.consentValidity), 'P5Y' as Duration) : null,
          },
          withdrawal: purpose.withdrawal,
        },
      ]));

    it('carries the notice version and language, the decision, method, touchpoint and actor', () =>
      expect(receipt).toMatchObject({
        notice: { version: '2024-02-27', language: 'nl-BE' },
        decision: 'consent-given',
        method: 'expressed-by-subject',
        touchpoint: 'myproximus-app',
        actor: { kind: 'subject' },
        channels: purpose.channels,
      }));

    it('says when the person consented, when it was recorded, and how long the consent is valid', () => {
      expect(receipt.occurredAt).toBe(occurredAt);
      expect(Date.parse(receipt.recordedAt)).toBeGreaterThan(Date.parse(occurredAt));
      expect(receipt.validity).toEqual({
        from: occurredAt,
        until: purpose.consentValidity ? addDuration(occurredAt, purpose.consentValidity) : null,
        duration: purpose.consentValidity ?? null,
      });
    });

    it("carries the event's hash and its place in the chain, as the store holds them", async () => {
      const [stored] = await api.store.readStream(`consent-ledger-${subjectId}`);
      expect(receipt.integrity).toEqual({
        algorithm: 'sha256-canonical-json-chain',
        streamName: `consent-ledger-${subjectId}`,
        revision: 0,
        position: stored.position.toString(),
        hash: stored.hash,
        previousHash: stored.previousHash,
        storedAt: stored.recordedAt,
      });
    });
  });

  it('lists the receipt of every choice of a subject', async () => {
    const subjectId = newSubjectId('receipts');
    await api.command({ type: 'StartRelationship', subjectId, relationship: 'customer', capture: { touchpoint: 'shop', actor: { kind: 'agent', id: 'shop-9' } } });
    await api.command({ type: 'RestrictChannel', subjectId, channel: 'sms', capture: { touchpoint: 'sms-stop', actor: { kind: 'subject' } } });
    const answer = await api.call('GET', `/v1/subjects/${subjectId}/receipts`, { key: TEST_KEYS.auditor });
    expect(answer.body.receipts.map((receipt: ConsentReceipt) => [receipt.decision, receipt.method])).toEqual([
      ['relationship-started', 'recorded-by-agent'],
      ['channel-restricted', 'expressed-by-subject'],
    ]);
  });

  // Found in review: a later consent dated before this one turned its receipt from consent-given
  // into consent-renewed, and the receipt the person kept could not be asked for again.
  it('says as of when a receipt was issued, and issues it again as it was then', async () => {
    const subjectId = newSubjectId('receipt');
    const consentAt = (hoursAgo: number) => ({
      type: 'GiveConsent',
      subjectId,
      purpose: 'newsletter-prospects',
      capture: { touchpoint: 'web-form', actor: { kind: 'subject' }, occurredAt: new Date(Date.now() - hoursAgo * 3_600_000).toISOString(), noticeVersion: '2024-02-27' },
    });
    const first = await api.command(consentAt(1));
    const issued = await api.call('GET', `/v1/subjects/${subjectId}/receipts/${first.body.events[0].id}`, { key: TEST_KEYS.auditor });
    expect(issued.body.decision).toBe('consent-given');
    expect((await api.command(consentAt(2))).status).toBe(201);

    const now = await api.call('GET', `/v1/subjects/${subjectId}/receipts/${first.body.events[0].id}`, { key: TEST_KEYS.auditor });
    expect(now.body.decision).toBe('consent-renewed');
    const again = await api.call('GET', `/v1/subjects/${subjectId}/receipts/${first.body.events[0].id}?knownAt=${encodeURIComponent(issued.body.issuedAt)}`, { key: TEST_KEYS.auditor });
    expect(again.body).toEqual(issued.body);
    const listed = await api.call('GET', `/v1/subjects/${subjectId}/receipts?knownAt=${encodeURIComponent(issued.body.issuedAt)}`, { key: TEST_KEYS.auditor });
    const { issuedAt, ...receipt } = issued.body;
    expect(listed.body).toEqual({ subjectId, issuedAt, receipts: [receipt] });
    // Found in review: a receipt "issued" in 2099 was served.
    const future = await api.call('GET', `/v1/subjects/${subjectId}/receipts?knownAt=2099-01-01T00:00:00Z`, { key: TEST_KEYS.auditor });
    expect([future.status, future.body.details]).toEqual([400, [{ field: 'knownAt', message: expect.stringContaining('later than now') }]]);
  });

  it("answers 404 for an event that is not in the subject's ledger, naming the subject and event as asked and nothing of the storage", async () => {
    const subjectId = newSubjectId('receipt');
    const other = await api.command({ type: 'StartRelationship', subjectId: newSubjectId('other'), relationship: 'customer', capture: { touchpoint: 'shop', actor: { kind: 'agent', id: 'a' } } });
    const askedFor = other.body.events[0].id.toUpperCase();
    const answer = await api.call('GET', `/v1/subjects/${subjectId}/receipts/${askedFor}`);
    expect(answer).toMatchObject({ status: 404, body: { error: 'not-found', message: expect.stringContaining(`subject ${subjectId} had no event ${askedFor} by `) } });
    // Found in review: the message named the store's stream, consent-ledger-<subject id>.
    expect(answer.body.message).not.toContain('consent-ledger-');
  });

  it('refuses an event id that is no UUID, naming eventId without repeating it', async () => {
    const answer = await api.call('GET', `/v1/subjects/${newSubjectId('receipt')}/receipts/jan%40example.be`);
    expect(answer).toMatchObject({ status: 400, body: { error: 'validation-failed', details: [{ field: 'eventId' }] } });
    expect(JSON.stringify(answer.body)).not.toContain('jan@example.be');
  });

  it('is refused to a key without history:read', async () =>
    expect((await api.call('GET', `/v1/subjects/${newSubjectId()}/receipts/00000000-0000-4000-8000-000000000000`, { key: TEST_KEYS.reader })).status).toBe(403));
});

import { createEventStore, eventStoreConfigOf } from '@consent-ledger/event-store';
import { PUBLISHED_CATALOGUES_STREAM } from '@consent-ledger/ledger-commands';
import { describeWithPostgres } from '../../../../test/support/services';
import { restartedApiPerTest, shippedCatalogue } from '../testing/restarted-api';
import { callApi, commandJson, CONSENT_PURPOSE, newSubjectId, type StoreKind, TEST_KEYS } from '../testing/test-api';

const SHIPPED = shippedCatalogue();
const shippedPurpose = SHIPPED.purposes.find((purpose: { id: string }) => purpose.id === CONSENT_PURPOSE);

/**
 * The operator publishes a new privacy statement and restarts with its catalogue. A consent given
 * before must still be proven with the words the person agreed to: the receipt quotes the
 * catalogue it was decided under, which the log keeps, not the file now on disk.
 */
function quotingTheCatalogueOfThen(kind: StoreKind) {
  const api = restartedApiPerTest(kind, 'catalogue-of-then');
  const { writeCatalogue, withApi } = api;
  /** The next statement: the purpose reworded and given a new recipient, under a new notice and version. */
  const rewordPurpose = (definition: any) => {
    definition.catalogueVersion = 'proximus-be-2026-12-01.1';
    definition.noticeVersion = '2026-12-01';
    const purpose = definition.purposes.find((each: { id: string }) => each.id === CONSENT_PURPOSE);
    purpose.description = 'Reworded in the statement of 1 December 2026';
    purpose.recipients = [...purpose.recipients, 'a partner added in 2026'];
  };
  const giveConsent = async (url: string, subjectId: string, noticeVersion: string): Promise<string> => {
    const json = commandJson.giveConsent(subjectId);
    const answer = await callApi(url, 'POST', '/v1/commands', { body: { ...json, capture: { ...(json.capture as object), noticeVersion } } });
    expect(answer.status).toBe(201);
    return answer.body.events[0].id;
  };
  const receiptOf = (url: string, subjectId: string, eventId: string) =>
    callApi(url, 'GET', `/v1/subjects/${subjectId}/receipts/${eventId}`, { key: TEST_KEYS.auditor }).then((answer) => answer.body);
  async function publishedCatalogues(): Promise<number> {
    const store = await createEventStore(eventStoreConfigOf(api.config));
    try {
      return (await store.readStream(PUBLISHED_CATALOGUES_STREAM)).length;
    } finally {
      await store.close();
    }
  }

  it('quotes the purpose as worded when the consent was given, after a restart with a reworded catalogue', async () => {
    const subjectId = newSubjectId('terms');
    writeCatalogue();
    const before = await withApi(async (url) => {
      await callApi(url, 'POST', '/v1/commands', { body: commandJson.startRelationship(subjectId) });
      return giveConsent(url, subjectId, SHIPPED.noticeVersion);
    });
    writeCatalogue(rewordPurpose);
    await withApi(async (url) => {
      const after = await giveConsent(url, subjectId, '2026-12-01');

      const receiptBefore = await receiptOf(url, subjectId, before);
      expect(receiptBefore).toMatchObject({ catalogueVersion: SHIPPED.catalogueVersion, termsFrom: 'recorded-catalogue' });
      expect(receiptBefore.purposes[0]).toMatchObject({ description: shippedPurpose.description, recipients: shippedPurpose.recipients });

      const receiptAfter = await receiptOf(url, subjectId, after);
      expect(receiptAfter).toMatchObject({ catalogueVersion: 'proximus-be-2026-12-01.1', termsFrom: 'recorded-catalogue' });
      expect(receiptAfter.purposes[0].description).toBe('Reworded in the statement of 1 December 2026');

      const exported = (await callApi(url, 'GET', `/v1/subjects/${subjectId}/export`, { key: TEST_KEYS.admin })).body;
      expect(exported.receipts.map((receipt: { catalogueVersion: string }) => receipt.catalogueVersion)).toEqual([
        SHIPPED.catalogueVersion,
        SHIPPED.catalogueVersion,
        'proximus-be-2026-12-01.1',
      ]);
      expect(exported.choices[2].catalogue).toMatch(/^proximus-be-2026-12-01\.1#[0-9a-f]{16}$/);
      expect(exported.integrity.intact).toBe(true);
    });
  });

  it('quotes the words of the previous notice for paperwork signed under it and keyed in after the restart', async () => {
    const subjectId = newSubjectId('terms');
    writeCatalogue();
    await withApi(async (url) => {
      await callApi(url, 'POST', '/v1/commands', { body: commandJson.startRelationship(subjectId) });
    });
    writeCatalogue(rewordPurpose);
    await withApi(async (url) => {
      const lateForm = await giveConsent(url, subjectId, SHIPPED.noticeVersion);

      const receipt = await receiptOf(url, subjectId, lateForm);
      expect(receipt).toMatchObject({ notice: { version: SHIPPED.noticeVersion }, catalogueVersion: SHIPPED.catalogueVersion, termsFrom: 'same-notice-catalogue' });
      expect(receipt.purposes[0]).toMatchObject({ description: shippedPurpose.description, recipients: shippedPurpose.recipients });
    });
  });

  it('keeps each catalogue once, however often the service restarts with it, and an edit under the same version label as well', async () => {
    const subjectId = newSubjectId('terms');
    writeCatalogue();
    await withApi(async () => undefined);
    await withApi(async () => undefined);
    expect(await publishedCatalogues()).toBe(1);

    // Edited without a new version label: its wording is still told apart from the first file's.
    writeCatalogue((definition) => {
      definition.purposes.find((each: { id: string }) => each.id === CONSENT_PURPOSE).description = 'Edited in place';
    });
    await withApi(async (url) => {
      const eventId = await giveConsent(url, subjectId, SHIPPED.noticeVersion);
      expect((await receiptOf(url, subjectId, eventId)).purposes[0].description).toBe('Edited in place');
    });
    expect(await publishedCatalogues()).toBe(2);
  });
}

describe('receipts after the catalogue changed, embedded (SQLite)', () => quotingTheCatalogueOfThen('sqlite'));
describeWithPostgres('receipts after the catalogue changed, on PostgreSQL', () => quotingTheCatalogueOfThen('postgres'));

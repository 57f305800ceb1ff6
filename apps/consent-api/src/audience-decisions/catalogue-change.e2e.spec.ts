import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describeWithPostgres, withClient } from '../../../../test/support/services';
import { createConsentApi } from '../consent-api';
import { restartedApiPerTest, shippedCatalogue } from '../testing/restarted-api';
import { callApi, commandJson, CONSENT_PURPOSE, newSubjectId, type StoreKind, TEST_KEYS } from '../testing/test-api';

/**
 * The operator edits the catalogue (a purpose withdrawn from a brand, a legal basis corrected) and
 * restarts. The decision rows SQL consumers read (and the topics, fed from the same read models)
 * were decided under the old catalogue: they must follow the new one, not keep the old answer
 * until each subject's next choice. Campaign filtering decides afresh and agreed all along.
 */
function followingTheCatalogue(kind: StoreKind) {
  const api = restartedApiPerTest(kind, 'catalogue-change');
  const { writeCatalogue, withApi } = api;
  const filter = (url: string, subjectId: string) =>
    callApi(url, 'POST', '/v1/decisions', { key: TEST_KEYS.reader, body: { purpose: CONSENT_PURPOSE, subjectIds: [subjectId] } }).then((response) => response.body);
  /** The `rm_decisions` row as a SQL consumer reads it, once the read models have caught up (the filter waits for that). */
  async function decisionRow(subjectId: string): Promise<{ allowed: boolean; reason: string } | undefined> {
    const sql = 'SELECT allowed, reason FROM rm_decisions WHERE subject_id = $1 AND purpose = $2';
    if (!api.schema) {
      const db = new Database(join(api.config.dataDir, 'state.sqlite'), { readonly: true });
      try {
        const row = db.prepare(sql.replace('$1', '?').replace('$2', '?')).get(subjectId, CONSENT_PURPOSE) as { allowed: number; reason: string } | undefined;
        return row && { allowed: row.allowed === 1, reason: row.reason };
      } finally {
        db.close();
      }
    }
    return withClient(api.schema.url, async (client) => (await client.query(sql, [subjectId, CONSENT_PURPOSE])).rows[0]);
  }

  /** A customer's consent recorded under the shipped catalogue, then the catalogue edited (version label unchanged) to close the purpose to Proximus customers. */
  async function consentedThenPurposeClosedToProximus(): Promise<string> {
    const subjectId = newSubjectId();
    writeCatalogue();
    await withApi(async (url) => {
      for (const json of [commandJson.startRelationship(subjectId), commandJson.giveConsent(subjectId)]) await callApi(url, 'POST', '/v1/commands', { body: json });
      expect(await filter(url, subjectId)).toMatchObject({ allowed: [subjectId] });
    });
    writeCatalogue((definition) => {
      definition.purposes.find((purpose: { id: string }) => purpose.id === CONSENT_PURPOSE).excludedBrands = ['proximus'];
    });
    return subjectId;
  }

  it('answers campaign questions under the catalogue it was restarted with', async () => {
    const subjectId = newSubjectId();
    writeCatalogue();
    await withApi(async (url) => {
      for (const json of [commandJson.startRelationship(subjectId), commandJson.giveConsent(subjectId)]) {
        expect((await callApi(url, 'POST', '/v1/commands', { body: json })).status).toBe(201);
      }
      expect(await filter(url, subjectId)).toEqual({ allowed: [subjectId], denied: [] });
      expect(await decisionRow(subjectId)).toEqual({ allowed: true, reason: 'consent-active' });
    });

    writeCatalogue((definition) => {
      definition.catalogueVersion = `${definition.catalogueVersion}-pickx-scarlet-only`;
      definition.purposes.find((purpose: { id: string }) => purpose.id === CONSENT_PURPOSE).excludedBrands = ['proximus'];
    });
    await withApi(async (url) => {
      expect(await filter(url, subjectId)).toEqual({ allowed: [], denied: [{ subjectId, reason: 'not-applicable-to-brand' }] });
      expect(await decisionRow(subjectId)).toEqual({ allowed: false, reason: 'not-applicable-to-brand' });
    });
  });

  // Found in review: one API replica restarted on a new catalogue before the projectors emptied
  // the shared read models, and every projector, still on the old one, then wrote nothing.
  it('leaves the rows to the process that keeps them, when this one does not', async () => {
    const subjectId = await consentedThenPurposeClosedToProximus();
    // The process keeping the rows is still on the shipped catalogue, as in a rolling upgrade. It
    // passes over the new catalogue the restarted replica keeps in the log.
    const shippedFile = join(api.directory, 'shipped.json');
    writeFileSync(shippedFile, JSON.stringify(shippedCatalogue()));
    const keeper = await createConsentApi({ ...api.config, catalogueFile: shippedFile }, { logger: ['error', 'warn'] });
    try {
      api.config = { ...api.config, projector: 'off' };
      await withApi(async (url) => {
        // It still answers campaign questions under its own catalogue, from the ledgers the rows hold.
        expect(await filter(url, subjectId)).toEqual({ allowed: [], denied: [{ subjectId, reason: 'not-applicable-to-brand' }] });
        expect(await decisionRow(subjectId)).toEqual({ allowed: true, reason: 'consent-active' });
      });
    } finally {
      await keeper.close();
    }
  });

  // Found in review: in a rolling upgrade, an API reading ledgers another version of the service
  // had written (another snapshot format) answered every campaign question with 500.
  it('answers 503 with Retry-After while the read models hold another version\'s ledgers', async () => {
    const subjectId = newSubjectId();
    writeCatalogue();
    await withApi(async (url) => {
      for (const json of [commandJson.startRelationship(subjectId), commandJson.giveConsent(subjectId)]) await callApi(url, 'POST', '/v1/commands', { body: json });
      expect(await filter(url, subjectId)).toMatchObject({ allowed: [subjectId] });
    });
    const otherVersion = `UPDATE rm_subjects SET ledger = '{"v":1}' WHERE subject_id = ${api.schema ? '$1' : '?'}`;
    if (api.schema) await withClient(api.schema.url, (client) => client.query(otherVersion, [subjectId]));
    else {
      const db = new Database(join(api.config.dataDir, 'state.sqlite'));
      db.prepare(otherVersion).run(subjectId);
      db.close();
    }
    api.config = { ...api.config, projector: 'off' };
    await withApi(async (url) => {
      const answer = await callApi(url, 'POST', '/v1/decisions', { key: TEST_KEYS.reader, body: { purpose: CONSENT_PURPOSE, subjectIds: [subjectId] } });
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(answer.body).toEqual({ error: 'unavailable', message: expect.any(String), requestId: answer.headers.get('x-request-id') });
    });
  });

  it('notices an edited catalogue whose version was not bumped', async () => {
    const subjectId = await consentedThenPurposeClosedToProximus();
    await withApi(async (url) => {
      await filter(url, subjectId);
      expect(await decisionRow(subjectId)).toEqual({ allowed: false, reason: 'not-applicable-to-brand' });
    });
  });
}

describe('a changed catalogue, embedded (SQLite)', () => followingTheCatalogue('sqlite'));
describeWithPostgres('a changed catalogue, on PostgreSQL', () => followingTheCatalogue('postgres'));

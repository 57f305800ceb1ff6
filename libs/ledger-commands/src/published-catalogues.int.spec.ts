import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalogue } from '@consent-ledger/domain';
import { consentGiven, recorded } from '@consent-ledger/domain/testing';
import { createEventStore, type EventStore } from '@consent-ledger/event-store';
import { createTestSchema, describeWithPostgres, type TestSchema } from '../../../test/support/services';
import { CataloguesInTheLog, PUBLISHED_CATALOGUES_STREAM, publishCatalogue } from './published-catalogues';

const catalogue = loadCatalogue(JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'catalogues', 'proximus.json'), 'utf8')));

/** Two API processes and a projector start together after a deployment: the log keeps the catalogue once. */
describeWithPostgres('publishing the catalogue from processes starting together (PostgreSQL)', () => {
  let schema: TestSchema;
  let stores: EventStore[];
  beforeEach(async () => {
    schema = await createTestSchema('cl_publish');
    stores = await Promise.all([1, 2, 3].map(() => createEventStore({ kind: 'postgres', url: schema.url })));
  });
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await schema.drop();
  });

  it('appends one event, and every process decides under the same reference', async () => {
    const published = await Promise.all(stores.map((store) => publishCatalogue(store, catalogue)));
    expect(new Set(published.map((each) => each.reference)).size).toBe(1);
    expect(await stores[0].readStream(PUBLISHED_CATALOGUES_STREAM)).toHaveLength(1);
    // Read back by another process, it is the catalogue a choice decided under it quotes.
    const [decidedUnderIt] = recorded([consentGiven({ purpose: 'newsletter-prospects', channels: ['email'], capture: { catalogue: published[0].reference } })]);
    const shelf = await new CataloguesInTheLog(stores[1], catalogue).for([decidedUnderIt]);
    expect(shelf.termsOf(decidedUnderIt).from).toBe('recorded-catalogue');
    expect((await stores[2].verify()).intact).toBe(true);
  });
});

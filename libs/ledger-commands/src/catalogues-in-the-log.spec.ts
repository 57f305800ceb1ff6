import { type Instant, loadCatalogue, type RecordedLedgerEvent } from '@consent-ledger/domain';
import { createInMemoryEventStore } from '@consent-ledger/event-store';
import proximus from '../../../catalogues/proximus.json';
import { CATALOGUE_PUBLISHED, CataloguesInTheLog, PUBLISHED_CATALOGUES_STREAM, publishCatalogue } from './published-catalogues';

const choiceUnder = (catalogue: string) =>
  ({
    type: 'ConsentGiven',
    data: { capture: { catalogue, touchpoint: 'web-form', actor: { kind: 'subject' }, occurredAt: '2026-01-01T00:00:00.000Z' as Instant, recordedAt: '2026-01-01T00:00:00.000Z' as Instant } },
  }) as unknown as RecordedLedgerEvent;

describe('the catalogues receipts quote, read from the log', () => {
  // Found in review: a catalogue this code can no longer load (a format change, ADR 0007) was
  // never known, so every receipt of a choice made under it read and loaded every catalogue again.
  it('reads the log once for choices made under a catalogue this code cannot load', async () => {
    const store = createInMemoryEventStore();
    const current = await publishCatalogue(store, loadCatalogue(proximus));
    await store.append(PUBLISHED_CATALOGUES_STREAM, [
      { eventId: '00000000-0000-4000-8000-000000000001', type: CATALOGUE_PUBLISHED, schemaVersion: 1, data: { reference: 'format-1#aaaa', catalogueVersion: 'format-1', noticeVersion: '2020-01-01', definition: { purposes: 'in a format since replaced' } } },
    ], { expectedRevision: 'any' });
    let reads = 0;
    const counted = Object.create(store, { readStream: { value: (...args: Parameters<typeof store.readStream>) => ((reads += 1), store.readStream(...args)) } });
    const catalogues = new CataloguesInTheLog(counted, current);

    for (let receipt = 0; receipt < 3; receipt += 1) {
      expect((await catalogues.for([choiceUnder('format-1#aaaa')])).termsOf(choiceUnder('format-1#aaaa')).from).toBe('current-catalogue');
    }
    expect(reads).toBe(1);
  });
});

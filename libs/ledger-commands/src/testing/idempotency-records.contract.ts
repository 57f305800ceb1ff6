import type { IdempotencyRecord, IdempotencyRecords } from '../idempotency/idempotency-records.port';

const record = (overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
  client: 'tv-menu',
  idempotencyKey: 'key-1',
  requestFingerprint: 'fingerprint-1',
  status: 201,
  body: '{"subjectId":"subject-1","events":[],"position":"1"}',
  recordedAt: '2024-05-01T09:00:00.000Z',
  ...overrides,
});

/** What every idempotency record store promises; each adapter's spec runs it. */
export function idempotencyRecordsContract(open: () => Promise<IdempotencyRecords>): void {
  let records: IdempotencyRecords;
  beforeEach(async () => {
    records = await open();
  });
  afterEach(() => records.close());

  it('finds nothing for a key never used', async () => {
    expect(await records.find('tv-menu', 'key-1')).toBeUndefined();
  });

  it('gives back the stored answer for the same client and key', async () => {
    await records.save(record());
    expect(await records.find('tv-menu', 'key-1')).toEqual(record());
  });

  it('keeps the first answer when the same key is saved again', async () => {
    await records.save(record());
    await records.save(record({ status: 422, body: '{"error":"late"}' }));
    expect(await records.find('tv-menu', 'key-1')).toEqual(record());
  });

  it('scopes keys by client', async () => {
    await records.save(record());
    expect(await records.find('shop-app', 'key-1')).toBeUndefined();
  });

  it('answers many concurrent finds and saves each with its own record', async () => {
    const many = Array.from({ length: 300 }, (_, index) => record({ idempotencyKey: `key-${index}`, status: index % 2 ? 200 : 422 }));
    await Promise.all(many.map((each) => records.save(each)));
    const found = await Promise.all(many.map((each) => records.find(each.client, each.idempotencyKey)));
    expect(found).toEqual(many);
  });

  it('answers finds sent together with saves of other keys', async () => {
    const earlier = Array.from({ length: 50 }, (_, index) => record({ idempotencyKey: `earlier-${index}` }));
    const later = Array.from({ length: 50 }, (_, index) => record({ idempotencyKey: `later-${index}`, status: 422 }));
    await Promise.all(earlier.map((each) => records.save(each)));

    const together = await Promise.all([
      ...earlier.map((each) => records.find(each.client, each.idempotencyKey)),
      ...later.map((each) => records.save(each).then(() => each)),
      records.find('tv-menu', 'never-used'),
    ]);

    expect(together).toEqual([...earlier, ...later, undefined]);
    expect(await Promise.all(later.map((each) => records.find(each.client, each.idempotencyKey)))).toEqual(later);
  });
}

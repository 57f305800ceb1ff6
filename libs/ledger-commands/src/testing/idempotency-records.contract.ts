import { type IdempotencyClaim, type IdempotencyRecord, type IdempotencyRecords, PENDING } from '../idempotency/idempotency-records.port';

const record = (overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
  client: 'tv-menu',
  idempotencyKey: 'key-1',
  requestFingerprint: 'fingerprint-1',
  status: 201,
  body: '{"subjectId":"subject-1","events":[],"position":"1"}',
  recordedAt: '2024-05-01T09:00:00.000Z',
  ...overrides,
});

const claimOf = ({ client, idempotencyKey, requestFingerprint }: IdempotencyRecord): IdempotencyClaim => ({
  client,
  idempotencyKey,
  requestFingerprint,
  recordedAt: '2024-05-01T09:00:00.000Z',
});

/** What every idempotency record store promises; each adapter's spec runs it. */
export function idempotencyRecordsContract(open: () => Promise<IdempotencyRecords>): void {
  let records: IdempotencyRecords;
  beforeEach(async () => {
    records = await open();
  });
  afterEach(() => records.close());

  it('lets the first request take a key never used, and shows it pending to the next', async () => {
    expect(await records.claim(claimOf(record()))).toBeUndefined();
    expect(await records.claim(claimOf(record({ requestFingerprint: 'fingerprint-2' })))).toMatchObject({
      requestFingerprint: 'fingerprint-1',
      status: PENDING,
    });
  });

  // Two processes given one key at the same moment: exactly one may decide.
  it('lets exactly one of many simultaneous claims of a key take it', async () => {
    const claims = await Promise.all(Array.from({ length: 10 }, (_, index) => records.claim(claimOf(record({ requestFingerprint: `fingerprint-${index}` })))));
    expect(claims.filter((claim) => claim === undefined)).toHaveLength(1);
    expect(claims.filter((claim) => claim?.status === PENDING)).toHaveLength(9);
  });

  it('gives back the answer saved over the claim', async () => {
    await records.claim(claimOf(record()));
    await records.save(record());
    expect(await records.claim(claimOf(record()))).toEqual(record());
  });

  it('keeps the first answer when the same key is saved again', async () => {
    await records.claim(claimOf(record()));
    await records.save(record());
    await records.save(record({ status: 422, body: '{"error":"late"}' }));
    expect(await records.claim(claimOf(record()))).toEqual(record());
  });

  it('never saves an answer over another request\'s claim', async () => {
    await records.claim(claimOf(record()));
    await records.save(record({ requestFingerprint: 'fingerprint-2' }));
    expect(await records.claim(claimOf(record()))).toMatchObject({ requestFingerprint: 'fingerprint-1', status: PENDING });
  });

  it('keeps an answer saved without a claim', async () => {
    await records.save(record());
    expect(await records.claim(claimOf(record()))).toEqual(record());
  });

  it('scopes keys by client', async () => {
    await records.save(record());
    expect(await records.claim(claimOf(record({ client: 'shop-app' })))).toBeUndefined();
  });

  it('answers many concurrent claims and saves each with its own record', async () => {
    const many = Array.from({ length: 300 }, (_, index) => record({ idempotencyKey: `key-${index}`, status: index % 2 ? 200 : 422 }));
    await Promise.all(many.map((each) => records.save(each)));
    const found = await Promise.all(many.map((each) => records.claim(claimOf(each))));
    expect(found).toEqual(many);
  });

  it('answers claims sent together with saves of other keys', async () => {
    const earlier = Array.from({ length: 50 }, (_, index) => record({ idempotencyKey: `earlier-${index}` }));
    const later = Array.from({ length: 50 }, (_, index) => record({ idempotencyKey: `later-${index}`, status: 422 }));
    await Promise.all(earlier.map((each) => records.save(each)));

    const together = await Promise.all([
      ...earlier.map((each) => records.claim(claimOf(each))),
      ...later.map((each) => records.save(each).then(() => each)),
      records.claim(claimOf(record({ idempotencyKey: 'never-used' }))),
    ]);

    expect(together).toEqual([...earlier, ...later, undefined]);
    expect(await Promise.all(later.map((each) => records.claim(claimOf(each))))).toEqual(later);
  });

  describe('forgetting old records', () => {
    const at = (hour: number) => `2024-05-01T${String(hour).padStart(2, '0')}:00:00.000Z`;

    it('forgets answers recorded before the instant, so their keys can be taken again, and keeps the rest', async () => {
      const old = record({ idempotencyKey: 'old', recordedAt: at(8) });
      const recent = record({ idempotencyKey: 'recent', recordedAt: at(10) });
      await Promise.all([records.save(old), records.save(recent)]);

      expect(await records.forgetRecordedBefore(at(10), 100)).toBe(1);

      expect(await records.claim(claimOf(record({ idempotencyKey: 'old', requestFingerprint: 'another request' })))).toBeUndefined();
      expect(await records.claim(claimOf(recent))).toEqual(recent);
    });

    it('forgets claims still pending like answers', async () => {
      await records.claim({ ...claimOf(record()), recordedAt: at(8) });
      expect(await records.forgetRecordedBefore(at(9), 100)).toBe(1);
      expect(await records.claim(claimOf(record({ requestFingerprint: 'another request' })))).toBeUndefined();
    });

    it('dates an answer by when it was saved, not by when its key was claimed', async () => {
      await records.claim({ ...claimOf(record()), recordedAt: at(8) });
      await records.save(record({ recordedAt: at(10) }));
      expect(await records.forgetRecordedBefore(at(9), 100)).toBe(0);
      expect(await records.claim(claimOf(record()))).toEqual(record({ recordedAt: at(10) }));
    });

    it('forgets at most the limit at a time, and says how many it forgot', async () => {
      await Promise.all(Array.from({ length: 5 }, (_, index) => records.save(record({ idempotencyKey: `old-${index}`, recordedAt: at(8) }))));
      const counts: number[] = [];
      for (let step = 0; step < 4; step += 1) counts.push(await records.forgetRecordedBefore(at(9), 2));
      expect(counts).toEqual([2, 2, 1, 0]);
    });

    it('compares instants, whatever offset the instant asked about is written in', async () => {
      await records.save(record({ recordedAt: at(8) }));
      expect(await records.forgetRecordedBefore('2024-05-01T09:30:00+02:00', 100)).toBe(0);
      expect(await records.forgetRecordedBefore('2024-05-01T10:30:00+02:00', 100)).toBe(1);
    });
  });

  describe('the client each API key answers as', () => {
    const tvMenu = { keySha256: 'a'.repeat(64), client: 'tv-menu' };
    const shop = { keySha256: 'b'.repeat(64), client: 'shop' };

    it('remembers the first name given to a key, and finds nothing renamed when processes agree', async () => {
      expect(await records.rememberClientsOfKeys([tvMenu, shop])).toEqual([]);
      expect(await records.rememberClientsOfKeys([tvMenu, shop, { keySha256: 'c'.repeat(64), client: 'tv-menu' }])).toEqual([]);
    });

    it('names the key given another client than before, with both names', async () => {
      await records.rememberClientsOfKeys([tvMenu, shop]);
      expect(await records.rememberClientsOfKeys([{ ...tvMenu, client: 'tv-menu-v2' }, shop])).toEqual([{ ...tvMenu, client: 'tv-menu-v2', knownAs: 'tv-menu' }]);
      // The first name stays: a process still on it is not refused later.
      expect(await records.rememberClientsOfKeys([tvMenu])).toEqual([]);
    });
  });
}

import { CopiesElsewhere } from './copies-elsewhere';
import { type IdempotencyRecord, PENDING } from './idempotency-records.port';

const pendingClaim = (recordedAt: Date): IdempotencyRecord => ({
  client: 'shop-app',
  idempotencyKey: 'key-1',
  requestFingerprint: 'fingerprint-1',
  status: PENDING,
  body: '',
  recordedAt: recordedAt.toISOString(),
});

describe('waiting for a copy of a request decided in another process', () => {
  it('gives up at once on a claim taken longer ago than a decision can last: its process died', async () => {
    const claim = pendingClaim(new Date(Date.now() - 60_000));
    const started = Date.now();
    expect(await new CopiesElsewhere(1_000).settled(claim, claim, async () => claim)).toBe(claim);
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('waits no longer than a decision can last when the other process stamped its claim with a clock an hour ahead', async () => {
    const claim = pendingClaim(new Date(Date.now() + 3_600_000));
    const started = Date.now();
    expect(await new CopiesElsewhere(200).settled(claim, claim, async () => claim)).toBe(claim);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('gives the answer once the other process kept it', async () => {
    const claim = pendingClaim(new Date());
    const answered = { ...claim, status: 201, body: '{"events":[]}' };
    let looks = 0;
    expect(await new CopiesElsewhere(5_000).settled(claim, claim, async () => (++looks < 3 ? claim : answered))).toBe(answered);
  });

  it('gives the answer a copy kept just before its process was found gone, rather than deciding again', async () => {
    const claim = { ...pendingClaim(new Date()), holder: 'process-1' };
    const answered = { ...claim, status: 422, body: '{"error":"kept before dying"}', holder: undefined };
    const started = Date.now();
    expect(await new CopiesElsewhere(5_000).settled(claim, claim, async () => answered, { holderGone: async () => true })).toBe(answered);
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('does not look for the holder of a claim that names none: it waits as before', async () => {
    const claim = pendingClaim(new Date());
    let asked = false;
    const holderGone = async () => (asked = true);
    expect(await new CopiesElsewhere(200).settled(claim, claim, async () => claim, { holderGone })).toBe(claim);
    expect(asked).toBe(false);
  });
});

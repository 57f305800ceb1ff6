import { type IdempotencyClaim, type IdempotencyRecord, type IdempotencyRecords, PENDING } from './idempotency-records.port';

/** Records in process memory: for tests. */
export class InMemoryIdempotencyRecords implements IdempotencyRecords {
  private readonly records = new Map<string, IdempotencyRecord>();

  async claim(claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    const key = JSON.stringify([claim.client, claim.idempotencyKey]);
    const earlier = this.records.get(key);
    if (!earlier) this.records.set(key, { ...claim, status: PENDING, body: '' });
    return earlier;
  }

  async save(record: IdempotencyRecord): Promise<void> {
    const key = JSON.stringify([record.client, record.idempotencyKey]);
    const earlier = this.records.get(key);
    if (!earlier || (earlier.status === PENDING && earlier.requestFingerprint === record.requestFingerprint)) this.records.set(key, record);
  }

  async close(): Promise<void> {}
}

import { type ClientRenamed, type IdempotencyClaim, type IdempotencyRecord, type IdempotencyRecords, type KeyOfClient, PENDING, renamedKeys } from './idempotency-records.port';

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

  async release(claim: Pick<IdempotencyClaim, 'client' | 'idempotencyKey' | 'requestFingerprint'>): Promise<void> {
    const key = JSON.stringify([claim.client, claim.idempotencyKey]);
    const earlier = this.records.get(key);
    if (earlier?.status === PENDING && earlier.requestFingerprint === claim.requestFingerprint) this.records.delete(key);
  }

  /** One process holds every claim: none has a holder elsewhere to die. */
  async holderGone(): Promise<boolean> {
    return false;
  }

  async forgetRecordedBefore(instant: string, limit: number): Promise<number> {
    const before = Date.parse(instant);
    let forgotten = 0;
    for (const [key, record] of this.records) {
      if (forgotten === limit) break;
      if (Date.parse(record.recordedAt) >= before) continue;
      this.records.delete(key);
      forgotten += 1;
    }
    return forgotten;
  }

  private readonly clientsOfKeys = new Map<string, string>();

  async rememberClientsOfKeys(keys: readonly KeyOfClient[]): Promise<ClientRenamed[]> {
    for (const key of keys) if (!this.clientsOfKeys.has(key.keySha256)) this.clientsOfKeys.set(key.keySha256, key.client);
    return renamedKeys(keys, this.clientsOfKeys);
  }

  async close(): Promise<void> {}
}

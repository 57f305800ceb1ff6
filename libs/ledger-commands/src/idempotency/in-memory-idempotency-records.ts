import type { IdempotencyRecord, IdempotencyRecords } from './idempotency-records.port';

/** Records in process memory: for tests. */
export class InMemoryIdempotencyRecords implements IdempotencyRecords {
  private readonly records = new Map<string, IdempotencyRecord>();

  async find(client: string, idempotencyKey: string): Promise<IdempotencyRecord | undefined> {
    return this.records.get(JSON.stringify([client, idempotencyKey]));
  }

  async save(record: IdempotencyRecord): Promise<void> {
    const key = JSON.stringify([record.client, record.idempotencyKey]);
    if (!this.records.has(key)) this.records.set(key, record);
  }

  async close(): Promise<void> {}
}

import { Pool, type PoolClient } from 'pg';
import { BatchedCalls } from './batched-calls';
import type { IdempotencyRecord, IdempotencyRecords } from './idempotency-records.port';

export interface PostgresIdempotencyRecordsOptions {
  /** Connection string; its `search_path` (if any) picks the schema. */
  readonly url: string;
  readonly poolSize?: number;
}

interface RecordRow {
  client: string;
  idempotency_key: string;
  request_fingerprint: string;
  status: number;
  body: string;
  recorded_at: Date;
}

/**
 * Idempotency records in PostgreSQL. Concurrent finds and saves share round trips (one query per
 * batch), and saves commit with `synchronous_commit = off`: the record is an answer cache, the log
 * stays the proof, and a retry of an appended command is answered from the log if a database
 * crash lost the record. See ADR 0004.
 */
export async function openPostgresIdempotencyRecords({ url, poolSize = 6 }: PostgresIdempotencyRecordsOptions): Promise<IdempotencyRecords> {
  const pool = new Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  try {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(`select pg_advisory_xact_lock(hashtext('consent-ledger:idempotency_records'))`);
      await client.query(`
        create table if not exists idempotency_records (
          client text not null,
          idempotency_key text not null,
          request_fingerprint text not null,
          status integer not null,
          body text not null,
          recorded_at timestamptz not null,
          primary key (client, idempotency_key)
        )`);
      await client.query('commit');
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return new PostgresIdempotencyRecords(pool);
}

class PostgresIdempotencyRecords implements IdempotencyRecords {
  private readonly finds: BatchedCalls<readonly [string, string], IdempotencyRecord | undefined>;
  private readonly saves: BatchedCalls<IdempotencyRecord, void>;
  private readonly asynchronousCommits = new WeakSet<PoolClient>();
  private isClosed = false;

  constructor(private readonly pool: Pool) {
    const options = { maxInFlight: 3, maxBatchSize: 500, collect: 'when-idle' } as const;
    this.finds = new BatchedCalls((keys) => this.findAll(keys), options);
    this.saves = new BatchedCalls((records) => this.saveAll(records), options);
  }

  find(client: string, idempotencyKey: string): Promise<IdempotencyRecord | undefined> {
    return this.finds.call([client, idempotencyKey]);
  }

  save(record: IdempotencyRecord): Promise<void> {
    return this.saves.call(record);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.pool.end();
  }

  private async findAll(keys: readonly (readonly [string, string])[]): Promise<(IdempotencyRecord | undefined)[]> {
    // Named statements: each connection parses and plans them once.
    const { rows } = await this.pool.query<RecordRow>({
      name: 'consent-ledger-find-idempotency-records',
      text: `select r.* from idempotency_records r
       join unnest($1::text[], $2::text[]) as wanted(client, idempotency_key)
         on r.client = wanted.client and r.idempotency_key = wanted.idempotency_key`,
      values: [keys.map(([client]) => client), keys.map(([, key]) => key)],
    });
    const found = new Map(rows.map((row) => [JSON.stringify([row.client, row.idempotency_key]), row]));
    return keys.map((key) => {
      const row = found.get(JSON.stringify(key));
      return (
        row && {
          client: row.client,
          idempotencyKey: row.idempotency_key,
          requestFingerprint: row.request_fingerprint,
          status: row.status,
          body: row.body,
          recordedAt: row.recorded_at.toISOString(),
        }
      );
    });
  }

  private async saveAll(records: readonly IdempotencyRecord[]): Promise<void[]> {
    const client = await this.pool.connect();
    try {
      if (!this.asynchronousCommits.has(client)) {
        await client.query('set synchronous_commit = off');
        this.asynchronousCommits.add(client);
      }
      await this.insertAll(client, records);
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    client.release();
    return records.map(() => undefined);
  }

  private async insertAll(client: PoolClient, records: readonly IdempotencyRecord[]): Promise<void> {
    await client.query({
      name: 'consent-ledger-save-idempotency-records',
      text: `insert into idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::timestamptz[])
       on conflict do nothing`,
      values: [
        records.map((record) => record.client),
        records.map((record) => record.idempotencyKey),
        records.map((record) => record.requestFingerprint),
        records.map((record) => record.status),
        records.map((record) => record.body),
        records.map((record) => record.recordedAt),
      ],
    });
  }
}

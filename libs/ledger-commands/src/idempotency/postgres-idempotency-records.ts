import { checkOutClient, withSessionSetting } from '@consent-ledger/event-store';
import { Pool } from 'pg';
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
 * Idempotency records in PostgreSQL. Concurrent finds and saves share round trips: whatever is
 * waiting goes in one statement that inserts the new records and looks the wanted ones up, one
 * statement at a time. Every statement costs the API a socket write that wakes a backend (0.2–0.3
 * ms of the API's time on the 2-core development machine, most of it giving the core to that
 * backend), so fewer, fuller statements beat more of them in parallel (docs/performance.md). The
 * pool commits with `synchronous_commit = off` (synchronously, slower and as correct, if the
 * connection string is not a URL): the record is an answer cache, the log stays the proof, and a
 * retry of an appended command is answered from the log if a database crash lost the record.
 * See ADR 0004.
 */
export async function openPostgresIdempotencyRecords({ url, poolSize = 3 }: PostgresIdempotencyRecordsOptions): Promise<IdempotencyRecords> {
  // A lock held by a stuck session fails the request as unavailable (503) instead of hanging it.
  const pool = new Pool({ connectionString: withSessionSetting(withSessionSetting(url, 'synchronous_commit', 'off'), 'lock_timeout', '3s'), max: poolSize, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  try {
    const client = await checkOutClient(pool);
    try {
      await client.query('begin');
      // Start-up waits for another starter's set-up, whatever the requests' lock_timeout.
      await client.query('set local lock_timeout = 0');
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

type Call = { readonly find: readonly [client: string, idempotencyKey: string] } | { readonly save: IdempotencyRecord };

/**
 * Inserts the records to save, then returns those of the wanted keys; the insert's rows are not
 * visible to the lookup. Each wanted key is looked up on its own through the primary key (the
 * LIMIT keeps the planner from turning the LATERAL back into a join): a join's plan, made while
 * the table was small and kept by the prepared statement, scanned the whole table per batch.
 */
export const SAVE_AND_FIND = `
  WITH saved AS (
    INSERT INTO idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at)
    SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::timestamptz[])
    ON CONFLICT DO NOTHING
    RETURNING 1
  )
  SELECT r.* FROM unnest($1::text[], $2::text[]) AS wanted(client, idempotency_key)
  CROSS JOIN LATERAL (
    SELECT * FROM idempotency_records WHERE client = wanted.client AND idempotency_key = wanted.idempotency_key LIMIT 1
  ) AS r`;

class PostgresIdempotencyRecords implements IdempotencyRecords {
  private readonly calls: BatchedCalls<Call, IdempotencyRecord | undefined>;
  private isClosed = false;

  constructor(private readonly pool: Pool) {
    this.calls = new BatchedCalls((calls) => this.saveAndFind(calls), { maxInFlight: 1, maxBatchSize: 1000, collect: 'when-idle' });
  }

  find(client: string, idempotencyKey: string): Promise<IdempotencyRecord | undefined> {
    return this.calls.call({ find: [client, idempotencyKey] });
  }

  async save(record: IdempotencyRecord): Promise<void> {
    await this.calls.call({ save: record });
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.pool.end();
  }

  private async saveAndFind(calls: readonly Call[]): Promise<(IdempotencyRecord | undefined)[]> {
    const wanted: (readonly [string, string])[] = [];
    const records: IdempotencyRecord[] = [];
    for (const call of calls) {
      if ('find' in call) wanted.push(call.find);
      else records.push(call.save);
    }
    // A named statement: each connection parses and plans it once.
    const { rows } = await this.pool.query<RecordRow>({
      name: 'consent-ledger-save-and-find-idempotency-records',
      text: SAVE_AND_FIND,
      values: [
        wanted.map(([client]) => client),
        wanted.map(([, key]) => key),
        records.map((record) => record.client),
        records.map((record) => record.idempotencyKey),
        records.map((record) => record.requestFingerprint),
        records.map((record) => record.status),
        records.map((record) => record.body),
        records.map((record) => record.recordedAt),
      ],
    });
    const found = new Map(rows.map((row) => [JSON.stringify([row.client, row.idempotency_key]), row]));
    return calls.map((call) => {
      const row = 'find' in call ? found.get(JSON.stringify(call.find)) : undefined;
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
}

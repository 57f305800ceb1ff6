import { checkOutClient, REQUEST_LOCK_TIMEOUT, withSessionSetting } from '@consent-ledger/event-store';
import { Pool } from 'pg';
import { BatchedCalls } from './batched-calls';
import { type ClientRenamed, type IdempotencyClaim, type IdempotencyRecord, type IdempotencyRecords, type KeyOfClient, PENDING, renamedKeys } from './idempotency-records.port';

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
  const pool = new Pool({ connectionString: withSessionSetting(withSessionSetting(url, 'synchronous_commit', 'off'), 'lock_timeout', REQUEST_LOCK_TIMEOUT), max: poolSize, connectionTimeoutMillis: 5000 });
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
      // Under the lock: two starters creating one index at once can fail on the catalogue's unique
      // key. On a table that grew without it, the build holds writes up once (ADR 0004, amendment).
      await client.query('create index if not exists idempotency_records_recorded_at on idempotency_records (recorded_at)');
      await client.query('create table if not exists idempotency_key_clients (key_sha256 text primary key, client text not null, first_named_at timestamptz not null default now())');
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

type Call = { readonly claim: IdempotencyClaim } | { readonly save: IdempotencyRecord };

/**
 * Claims keys and saves answers in one statement. For every claimed key it returns whether this
 * statement took it (`taken`) and otherwise the record that was there, looked up on its own
 * through the primary key (the LIMIT keeps the planner from turning the LATERAL back into a join:
 * a join's plan, made while the table was small and kept by the prepared statement, scanned the
 * whole table per batch). A save replaces its request's pending claim, never another record.
 * A key neither taken nor found was claimed by a transaction that committed after this
 * statement's snapshot: the caller looks again.
 */
export const CLAIM_AND_SAVE = `
  WITH claimed AS (
    INSERT INTO idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at)
    SELECT client, idempotency_key, request_fingerprint, ${PENDING}, '', recorded_at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS claim(client, idempotency_key, request_fingerprint, recorded_at)
    ON CONFLICT DO NOTHING
    RETURNING client, idempotency_key
  ), saved AS (
    INSERT INTO idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at)
    SELECT * FROM unnest($5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::timestamptz[])
    ON CONFLICT (client, idempotency_key) DO UPDATE SET status = EXCLUDED.status, body = EXCLUDED.body, recorded_at = EXCLUDED.recorded_at
    WHERE idempotency_records.status = ${PENDING} AND idempotency_records.request_fingerprint = EXCLUDED.request_fingerprint
    RETURNING 1
  )
  SELECT wanted.client, wanted.idempotency_key, r.request_fingerprint, r.status, r.body, r.recorded_at,
    EXISTS (SELECT 1 FROM claimed WHERE claimed.client = wanted.client AND claimed.idempotency_key = wanted.idempotency_key) AS taken
  FROM unnest($1::text[], $2::text[]) AS wanted(client, idempotency_key)
  LEFT JOIN LATERAL (
    SELECT * FROM idempotency_records WHERE client = wanted.client AND idempotency_key = wanted.idempotency_key LIMIT 1
  ) AS r ON true`;

const LOOK_AGAIN = 'SELECT * FROM idempotency_records WHERE client = $1 AND idempotency_key = $2';

/**
 * Deletes a batch of the oldest records through the `recorded_at` index. The rows are locked as
 * they are picked, so a row answered meanwhile (its `recorded_at` moved on) is not picked, and
 * none can move before it is deleted by its `ctid`; rows another sweep holds are skipped, so
 * processes sweeping at once share the work instead of waiting on each other.
 */
export const FORGET_RECORDED_BEFORE = `
  DELETE FROM idempotency_records WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM idempotency_records WHERE recorded_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED
  ))`;

class PostgresIdempotencyRecords implements IdempotencyRecords {
  private readonly calls: BatchedCalls<Call, IdempotencyRecord | undefined>;
  private isClosed = false;

  constructor(private readonly pool: Pool) {
    this.calls = new BatchedCalls((calls) => this.claimAndSave(calls), { maxInFlight: 1, maxBatchSize: 1000, collect: 'when-idle' });
  }

  claim(claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    return this.calls.call({ claim });
  }

  async save(record: IdempotencyRecord): Promise<void> {
    await this.calls.call({ save: record });
  }

  async release({ client, idempotencyKey, requestFingerprint }: Pick<IdempotencyClaim, 'client' | 'idempotencyKey' | 'requestFingerprint'>): Promise<void> {
    await this.pool.query(`DELETE FROM idempotency_records WHERE client = $1 AND idempotency_key = $2 AND request_fingerprint = $3 AND status = ${PENDING}`, [
      client,
      idempotencyKey,
      requestFingerprint,
    ]);
  }

  async forgetRecordedBefore(instant: string, limit: number): Promise<number> {
    const { rowCount } = await this.pool.query(FORGET_RECORDED_BEFORE, [instant, limit]);
    return rowCount ?? 0;
  }

  async rememberClientsOfKeys(keys: readonly KeyOfClient[]): Promise<ClientRenamed[]> {
    if (keys.length === 0) return [];
    const digests = keys.map((key) => key.keySha256);
    // Named once, by whichever process comes first; the commit need not wait for the disk, as a
    // lost row is named again by the next start.
    await this.pool.query(
      'INSERT INTO idempotency_key_clients (key_sha256, client) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (key_sha256) DO NOTHING',
      [digests, keys.map((key) => key.client)],
    );
    const { rows } = await this.pool.query<{ key_sha256: string; client: string }>('SELECT key_sha256, client FROM idempotency_key_clients WHERE key_sha256 = ANY($1)', [digests]);
    return renamedKeys(keys, new Map(rows.map((row) => [row.key_sha256, row.client])));
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.pool.end();
  }

  private async claimAndSave(calls: readonly Call[]): Promise<(IdempotencyRecord | undefined)[]> {
    // One claim per key and batch: the statement takes a key once, and a second claim of it in the
    // same batch finds the first one's pending record.
    const firstClaimOf = new Map<string, IdempotencyClaim>();
    const records: IdempotencyRecord[] = [];
    for (const call of calls) {
      if ('save' in call) records.push(call.save);
      else if (!firstClaimOf.has(keyOf(call.claim))) firstClaimOf.set(keyOf(call.claim), call.claim);
    }
    const claims = [...firstClaimOf.values()];
    // A named statement: each connection parses and plans it once.
    const { rows } = await this.pool.query<RecordRow & { taken: boolean }>({
      name: 'consent-ledger-claim-and-save-idempotency-records',
      text: CLAIM_AND_SAVE,
      values: [
        claims.map((claim) => claim.client),
        claims.map((claim) => claim.idempotencyKey),
        claims.map((claim) => claim.requestFingerprint),
        claims.map((claim) => claim.recordedAt),
        records.map((record) => record.client),
        records.map((record) => record.idempotencyKey),
        records.map((record) => record.requestFingerprint),
        records.map((record) => record.status),
        records.map((record) => record.body),
        records.map((record) => record.recordedAt),
      ],
    });
    const outcomes = new Map<string, IdempotencyRecord | undefined>();
    for (const row of rows) {
      const key = keyOf({ client: row.client, idempotencyKey: row.idempotency_key });
      if (row.taken) outcomes.set(key, undefined);
      else if (row.request_fingerprint !== null) outcomes.set(key, recordOf(row));
      else {
        const again = await this.pool.query<RecordRow>(LOOK_AGAIN, [row.client, row.idempotency_key]);
        outcomes.set(key, again.rows[0] && recordOf(again.rows[0]));
      }
    }
    const answered = new Set<string>();
    return calls.map((call) => {
      if ('save' in call) return undefined;
      const key = keyOf(call.claim);
      if (answered.has(key)) return outcomes.get(key) ?? { ...firstClaimOf.get(key)!, status: PENDING, body: '' };
      answered.add(key);
      return outcomes.get(key);
    });
  }
}

const keyOf = (claim: { client: string; idempotencyKey: string }) => JSON.stringify([claim.client, claim.idempotencyKey]);

function recordOf(row: RecordRow): IdempotencyRecord {
  return {
    client: row.client,
    idempotencyKey: row.idempotency_key,
    requestFingerprint: row.request_fingerprint,
    status: row.status,
    body: row.body,
    recordedAt: row.recorded_at.toISOString(),
  };
}

import { checkOutClient, connectionWaitMs, REQUEST_LOCK_TIMEOUT, withAnswerTimeout, withSessionSetting } from '@consent-ledger/event-store';
import { createHash, randomUUID } from 'node:crypto';
import { Client, Pool, type QueryConfig } from 'pg';
import { BatchedCalls } from './batched-calls';
import { type ClientRenamed, type IdempotencyClaim, type IdempotencyRecord, type IdempotencyRecords, type KeyOfClient, PENDING, renamedKeys } from './idempotency-records.port';

export interface PostgresIdempotencyRecordsOptions {
  /** Connection string; its `search_path` (if any) picks the schema. */
  readonly url: string;
  readonly poolSize?: number;
  /**
   * How long a request's claim, save, release or look at a holder waits for PostgreSQL's answer
   * before its connection is closed and the request answered 503 (see the event store's
   * answer-timeout.ts); also bounds the wait for a connection. Unset: as long as it takes. The
   * sweep and the set-up at start have none.
   */
  readonly answerTimeoutMs?: number;
}

interface RecordRow {
  client: string;
  idempotency_key: string;
  request_fingerprint: string;
  status: number;
  body: string;
  recorded_at: Date;
  holder: string | null;
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
export async function openPostgresIdempotencyRecords({ url, poolSize = 3, answerTimeoutMs }: PostgresIdempotencyRecordsOptions): Promise<IdempotencyRecords> {
  // A lock held by a stuck session fails the request as unavailable (503) instead of hanging it.
  const pool = new Pool({
    connectionString: withSessionSetting(withSessionSetting(url, 'synchronous_commit', 'off'), 'lock_timeout', REQUEST_LOCK_TIMEOUT),
    max: poolSize,
    connectionTimeoutMillis: connectionWaitMs(answerTimeoutMs),
    application_name: 'consent-ledger-idempotency-records',
  });
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
      // Looked up first: ALTER TABLE takes the table's strongest lock even when the column is there,
      // and would queue every claim of the running processes behind any long statement on it.
      const { rowCount } = await client.query(
        `select 1 from information_schema.columns where table_schema = current_schema() and table_name = 'idempotency_records' and column_name = 'holder'`,
      );
      // Nullable, without a default: no rewrite. Claims taken before keep none, and the 15 s rule.
      if (rowCount === 0) await client.query('alter table idempotency_records add column holder text');
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
  let holder: HolderLock;
  try {
    holder = await HolderLock.take(url);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  return new PostgresIdempotencyRecords(pool, holder, answerTimeoutMs);
}

/** The advisory lock key of a holder token: 64 bits of its SHA-256, as PostgreSQL's bigint. */
const lockKeyOf = (holder: string): string => createHash('sha256').update(holder).digest().readBigInt64BE(0).toString();

/** How long a lost holder connection waits before connecting again (doubling up to the last). */
const RECONNECT_PAUSES_MS = [100, 500, 1_000, 5_000];

/**
 * This process's sign of life to the others sharing the records: a session advisory lock keyed by
 * a random token, held on a connection of its own (the pool closes idle connections, which would
 * let go of it). PostgreSQL lets go of it when the process dies and its connection closes, so a
 * copy waiting for one of its claims knows at once that no answer will come. Claims name the token
 * only while the lock is held. A lost connection is opened again and the lock taken again; claims
 * in flight meanwhile look abandoned to a retry elsewhere, which decides them again (ADR 0004).
 */
class HolderLock {
  private connection: Client | undefined;
  private isClosed = false;

  private constructor(
    private readonly url: string,
    readonly token: string,
  ) {}

  static async take(url: string): Promise<HolderLock> {
    const lock = new HolderLock(url, randomUUID());
    await lock.connect();
    return lock;
  }

  /** The token to record on a claim: none while the lock is not held, so the claim keeps the 15 s rule. */
  get tokenIfHeld(): string | null {
    return this.connection ? this.token : null;
  }

  async close(): Promise<void> {
    this.isClosed = true;
    const connection = this.connection;
    this.connection = undefined;
    await connection?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const connection = new Client({ connectionString: this.url, application_name: 'consent-ledger-idempotency-holder', keepAlive: true });
    connection.on('error', () => undefined);
    try {
      await connection.connect();
      // Blocking: after a lost connection PostgreSQL may not have noticed yet that it is gone.
      await connection.query('select pg_advisory_lock($1::bigint)', [lockKeyOf(this.token)]);
    } catch (error) {
      await connection.end().catch(() => undefined);
      throw error;
    }
    if (this.isClosed) {
      await connection.end().catch(() => undefined);
      return;
    }
    connection.once('end', () => {
      if (this.connection !== connection) return;
      this.connection = undefined;
      void this.reconnect();
    });
    this.connection = connection;
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.isClosed; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_PAUSES_MS[Math.min(attempt, RECONNECT_PAUSES_MS.length - 1)]).unref());
      if (this.isClosed) return;
      try {
        await this.connect();
        return;
      } catch {
        // Tried again: the records themselves report PostgreSQL being down to each request.
      }
    }
  }
}

/**
 * Whether no session holds the holder's lock any more. Read from pg_locks (a single bigint key shows
 * as classid, objid and objsubid 1), not by trying the lock: a try would hold it for a moment, and
 * the holder taking it again after a lost connection could find it taken.
 */
export const HOLDER_GONE = `
  SELECT NOT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory' AND granted AND objsubid = 1
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND classid = (($1::bigint >> 32) & 4294967295)::oid AND objid = ($1::bigint & 4294967295)::oid
  ) AS gone`;

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
    INSERT INTO idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at, holder)
    SELECT client, idempotency_key, request_fingerprint, ${PENDING}, '', recorded_at, $11::text
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
  SELECT wanted.client, wanted.idempotency_key, r.request_fingerprint, r.status, r.body, r.recorded_at, r.holder,
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

  constructor(
    private readonly pool: Pool,
    private readonly holder: HolderLock,
    private readonly answerTimeoutMs: number | undefined,
  ) {
    this.calls = new BatchedCalls((calls) => this.claimAndSave(calls), { maxInFlight: 1, maxBatchSize: 1000, collect: 'when-idle' });
  }

  claim(claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    return this.calls.call({ claim });
  }

  async save(record: IdempotencyRecord): Promise<void> {
    await this.calls.call({ save: record });
  }

  async release({ client, idempotencyKey, requestFingerprint }: Pick<IdempotencyClaim, 'client' | 'idempotencyKey' | 'requestFingerprint'>): Promise<void> {
    await this.pool.query(
      this.timed({
        text: `DELETE FROM idempotency_records WHERE client = $1 AND idempotency_key = $2 AND request_fingerprint = $3 AND status = ${PENDING}`,
        values: [client, idempotencyKey, requestFingerprint],
      }),
    );
  }

  async holderGone({ holder }: IdempotencyRecord): Promise<boolean> {
    if (holder === undefined || holder === this.holder.token) return false;
    const { rows } = await this.pool.query<{ gone: boolean }>(this.timed({ text: HOLDER_GONE, values: [lockKeyOf(holder)] }));
    return rows[0].gone;
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
    await Promise.all([this.pool.end(), this.holder.close()]);
  }

  /** A request's statement, given the answer timeout. */
  private timed<Query extends QueryConfig<any>>(query: Query): Query {
    return withAnswerTimeout(query, this.answerTimeoutMs);
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
    const { rows } = await this.pool.query<RecordRow & { taken: boolean }>(
      this.timed({
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
          this.holder.tokenIfHeld,
        ],
      }),
    );
    const outcomes = new Map<string, IdempotencyRecord | undefined>();
    for (const row of rows) {
      const key = keyOf({ client: row.client, idempotencyKey: row.idempotency_key });
      if (row.taken) outcomes.set(key, undefined);
      else if (row.request_fingerprint !== null) outcomes.set(key, recordOf(row));
      else {
        const again = await this.pool.query<RecordRow>(this.timed({ text: LOOK_AGAIN, values: [row.client, row.idempotency_key] }));
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
    // An answer has no holder to wait for; the column keeps the claim's.
    ...(row.status === PENDING && row.holder !== null && { holder: row.holder }),
  };
}

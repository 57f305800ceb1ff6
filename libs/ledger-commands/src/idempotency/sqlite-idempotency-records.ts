import Database, { type Database as Connection } from 'better-sqlite3';
import { BatchedCalls } from './batched-calls';
import { type ClientRenamed, type IdempotencyClaim, type IdempotencyRecord, type IdempotencyRecords, type KeyOfClient, PENDING, renamedKeys } from './idempotency-records.port';

export interface SqliteIdempotencyRecordsOptions {
  /** `${DATA_DIR}/state.sqlite` in the embedded default: kept apart from the event log on purpose. */
  readonly file: string;
}

interface RecordRow {
  client: string;
  idempotency_key: string;
  request_fingerprint: string;
  status: number;
  body: string;
  recorded_at: string;
}

/**
 * Idempotency records in SQLite. Saves made in the same event-loop turn share one transaction.
 * `synchronous = NORMAL`: a process crash loses nothing; a power loss may lose the last records,
 * and then the log still answers retries of appended commands (their event ids are derived from
 * the key). See ADR 0004.
 */
export function openSqliteIdempotencyRecords({ file }: SqliteIdempotencyRecordsOptions): IdempotencyRecords {
  const db = new Database(file, { timeout: 5000 });
  try {
    db.pragma('journal_mode = WAL');
  } catch (error) {
    // Named, as the log's own file is: "file is not a database" alone did not say which (found in review).
    throw new Error(`cannot open the idempotency records at ${file}: ${(error as Error).message}`, { cause: error });
  }
  db.pragma('synchronous = NORMAL');
  db.exec(`
    create table if not exists idempotency_records (
      client text not null,
      idempotency_key text not null,
      request_fingerprint text not null,
      status integer not null,
      body text not null,
      recorded_at text not null,
      primary key (client, idempotency_key)
    ) without rowid;
    create index if not exists idempotency_records_recorded_at on idempotency_records (recorded_at);
    create table if not exists idempotency_key_clients (key_sha256 text primary key, client text not null, first_named_at text not null) without rowid`);
  return new SqliteIdempotencyRecords(db);
}

class SqliteIdempotencyRecords implements IdempotencyRecords {
  private readonly select;
  private readonly insert;
  private readonly claimTaking: (claim: IdempotencyClaim) => RecordRow | undefined;
  private readonly saves: BatchedCalls<IdempotencyRecord, void>;
  private readonly forgetOldest;
  private readonly releaseClaim;

  constructor(private readonly db: Connection) {
    this.select = db.prepare('select * from idempotency_records where client = ? and idempotency_key = ?');
    // The answer replaces the request's own claim, never another request's record.
    this.insert = db.prepare(
      `insert into idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at)
       values (@client, @idempotencyKey, @requestFingerprint, @status, @body, @recordedAt)
       on conflict do update set status = excluded.status, body = excluded.body, recorded_at = excluded.recorded_at
       where idempotency_records.status = ${PENDING} and idempotency_records.request_fingerprint = excluded.request_fingerprint`,
    );
    const claimOne = db.prepare(
      `insert into idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at)
       values (@client, @idempotencyKey, @requestFingerprint, ${PENDING}, '', @recordedAt)
       on conflict do nothing`,
    );
    // One transaction: what was there is read before the claim is written.
    this.claimTaking = db.transaction((claim: IdempotencyClaim) => {
      const earlier = this.select.get(claim.client, claim.idempotencyKey) as RecordRow | undefined;
      if (!earlier) claimOne.run(claim);
      return earlier;
    });
    const insertAll = db.transaction((records: readonly IdempotencyRecord[]) => {
      for (const record of records) this.insert.run(record);
    });
    const saveAll = async (records: readonly IdempotencyRecord[]) => {
      insertAll(records);
      return records.map(() => undefined);
    };
    this.saves = new BatchedCalls(saveAll, {
      maxInFlight: 1,
      maxBatchSize: 1000,
      collect: 'next-turn',
    });
    this.releaseClaim = db.prepare(
      `delete from idempotency_records where client = ? and idempotency_key = ? and request_fingerprint = ? and status = ${PENDING}`,
    );
    // Instants are kept as normalised text, so comparing the text compares the instants.
    this.forgetOldest = db.prepare(
      `delete from idempotency_records where (client, idempotency_key) in (
         select client, idempotency_key from idempotency_records where recorded_at < ? limit ?)`,
    );
  }

  async claim(claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    const row = this.claimTaking(claim);
    return row && {
      client: row.client,
      idempotencyKey: row.idempotency_key,
      requestFingerprint: row.request_fingerprint,
      status: row.status,
      body: row.body,
      recordedAt: row.recorded_at,
    };
  }

  save(record: IdempotencyRecord): Promise<void> {
    return this.saves.call(record);
  }

  async release({ client, idempotencyKey, requestFingerprint }: Pick<IdempotencyClaim, 'client' | 'idempotencyKey' | 'requestFingerprint'>): Promise<void> {
    this.releaseClaim.run(client, idempotencyKey, requestFingerprint);
  }

  async forgetRecordedBefore(instant: string, limit: number): Promise<number> {
    return this.forgetOldest.run(new Date(instant).toISOString(), limit).changes;
  }

  async rememberClientsOfKeys(keys: readonly KeyOfClient[]): Promise<ClientRenamed[]> {
    const name = this.db.prepare('insert into idempotency_key_clients (key_sha256, client, first_named_at) values (?, ?, ?) on conflict (key_sha256) do nothing');
    const find = this.db.prepare('select client from idempotency_key_clients where key_sha256 = ?');
    const now = new Date().toISOString();
    const remembered = this.db.transaction(() =>
      keys.map((key) => {
        name.run(key.keySha256, key.client, now);
        return [key.keySha256, (find.get(key.keySha256) as { client: string }).client] as const;
      }),
    )();
    return renamedKeys(keys, new Map(remembered));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

import { randomUUID } from 'node:crypto';
import { chmodSync, readdirSync, unlinkSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database, { type Database as Connection } from 'better-sqlite3';
import { useWriteAheadLog } from '@consent-ledger/event-store';
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
  holder: string | null;
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
    useWriteAheadLog(db);
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
  // Looked at and added in one write transaction: two processes starting at once would otherwise
  // both add it, and the second fail. Claims taken before keep no holder, and the 15 s rule.
  db.transaction(() => {
    const columns = db.prepare('select name from pragma_table_info(?)').all('idempotency_records') as { name: string }[];
    if (!columns.some((column) => column.name === 'holder')) db.exec('alter table idempotency_records add column holder text');
  }).immediate();
  let holder: HolderLock;
  try {
    holder = HolderLock.take(file);
  } catch (error) {
    db.close();
    throw error;
  }
  forgetHoldersGone(file);
  return new SqliteIdempotencyRecords(db, holder);
}

/**
 * Removes the lock files of processes that died: only a retry of one of their claims would look
 * at them otherwise, so a service restarted again and again (out of memory, say) piled them up
 * beside the database. Live holders' files stay: their lock cannot be taken.
 */
function forgetHoldersGone(databaseFile: string): void {
  const prefix = `${basename(databaseFile)}.holder-`;
  for (const name of readdirSync(dirname(databaseFile))) {
    if (!name.startsWith(prefix) || !name.endsWith('.lock')) continue;
    const token = name.slice(prefix.length, -'.lock'.length);
    try {
      if (holderGone(databaseFile, token)) removeQuietly(`${databaseFile}.holder-${token}.lock-journal`);
    } catch {
      // A file that cannot be judged stays, and does not stop the records from opening.
    }
  }
}

/** Holder tokens of this process's records: alive while we are, never tested by opening their files. */
const heldHere = new Set<string>();
const HOLDER_TOKEN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * This process's sign of life to the others sharing `state.sqlite` on the host: a lock file of its
 * own beside the database, named by a random token and held in an open exclusive transaction for
 * as long as the records are open. The operating system lets go of a dead process's file lock, so
 * a copy waiting for one of its claims can take that lock and know no answer will come (the way
 * the event store's `exclusively` holds its runs).
 */
class HolderLock {
  private constructor(
    readonly token: string,
    private readonly lockFile: string,
    private readonly connection: Connection,
  ) {}

  static take(databaseFile: string): HolderLock {
    const token = randomUUID();
    const lockFile = lockFileOf(databaseFile, token);
    const connection = new Database(lockFile, { timeout: 0 });
    try {
      // Empty and never written, but readable by this user only, like every file of DATA_DIR. Not
      // created by opening it ourselves: closing any descriptor of a file drops every lock this
      // process holds on it.
      chmodSync(lockFile, 0o600);
      connection.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      connection.close();
      throw new Error(`cannot hold the idempotency records' holder lock at ${lockFile}: ${(error as Error).message}`, { cause: error });
    }
    heldHere.add(token);
    return new HolderLock(token, lockFile, connection);
  }

  close(): void {
    if (!this.connection.open) return;
    this.connection.close();
    heldHere.delete(this.token);
    removeQuietly(this.lockFile);
  }
}

const lockFileOf = (databaseFile: string, token: string): string => `${databaseFile}.holder-${token}.lock`;

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Removed already, by the holder closing or by another process that found it gone.
  }
}

/**
 * Whether the process holding `token`'s lock file is gone: its lock can be taken (busy_timeout 0, so
 * a live holder answers at once), or the file was removed. A gone holder's file is removed, so
 * files do not pile up beside the database as processes come and go.
 */
function holderGone(databaseFile: string, token: string): boolean {
  // The token is read from the database: it names a file only in the form this process writes.
  if (heldHere.has(token) || !HOLDER_TOKEN.test(token)) return false;
  const lockFile = lockFileOf(databaseFile, token);
  let connection: Connection;
  try {
    connection = new Database(lockFile, { timeout: 0, fileMustExist: true });
  } catch {
    return true;
  }
  try {
    connection.exec('BEGIN IMMEDIATE');
    connection.exec('ROLLBACK');
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return false;
    throw error;
  } finally {
    connection.close();
  }
  removeQuietly(lockFile);
  return true;
}

class SqliteIdempotencyRecords implements IdempotencyRecords {
  private readonly select;
  private readonly insert;
  private readonly claimTaking: (claim: IdempotencyClaim) => RecordRow | undefined;
  private readonly saves: BatchedCalls<IdempotencyRecord, void>;
  private readonly forgetOldest;
  private readonly releaseClaim;

  constructor(
    private readonly db: Connection,
    private readonly holder: HolderLock,
  ) {
    this.select = db.prepare('select * from idempotency_records where client = ? and idempotency_key = ?');
    // The answer replaces the request's own claim, never another request's record.
    this.insert = db.prepare(
      `insert into idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at)
       values (@client, @idempotencyKey, @requestFingerprint, @status, @body, @recordedAt)
       on conflict do update set status = excluded.status, body = excluded.body, recorded_at = excluded.recorded_at
       where idempotency_records.status = ${PENDING} and idempotency_records.request_fingerprint = excluded.request_fingerprint`,
    );
    const claimOne = db.prepare(
      `insert into idempotency_records (client, idempotency_key, request_fingerprint, status, body, recorded_at, holder)
       values (@client, @idempotencyKey, @requestFingerprint, ${PENDING}, '', @recordedAt, @holder)
       on conflict do nothing`,
    );
    // One transaction: what was there is read before the claim is written.
    this.claimTaking = db.transaction((claim: IdempotencyClaim) => {
      const earlier = this.select.get(claim.client, claim.idempotencyKey) as RecordRow | undefined;
      if (!earlier) claimOne.run({ client: claim.client, idempotencyKey: claim.idempotencyKey, requestFingerprint: claim.requestFingerprint, recordedAt: claim.recordedAt, holder: this.holder.token });
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
      // An answer has no holder to wait for; the column keeps the claim's.
      ...(row.status === PENDING && row.holder !== null && { holder: row.holder }),
    };
  }

  save(record: IdempotencyRecord): Promise<void> {
    return this.saves.call(record);
  }

  async release({ client, idempotencyKey, requestFingerprint }: Pick<IdempotencyClaim, 'client' | 'idempotencyKey' | 'requestFingerprint'>): Promise<void> {
    this.releaseClaim.run(client, idempotencyKey, requestFingerprint);
  }

  async holderGone({ holder }: IdempotencyRecord): Promise<boolean> {
    return holder !== undefined && holder !== this.holder.token && holderGone(this.db.name, holder);
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
    this.holder.close();
  }
}

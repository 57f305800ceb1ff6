import Database, { type Database as Connection } from 'better-sqlite3';
import { chmodSync } from 'node:fs';
import { DESTROYED, EnvelopeVault, type KeyRows, KeyStoreMissing, type StoredKey, type WrappedKeyRow } from '../envelope/envelope-vault';
import type { KeyCacheOptions } from '../envelope/key-cache';
import { SCRUBBED, type ScrubStatus } from '../personal-data-vault.port';

export interface SqliteVaultOptions {
  /** `${DATA_DIR}/keys.sqlite`: deliberately not the event log's file, so its backups can expire sooner. */
  readonly file: string;
  readonly masterKey: Buffer;
  readonly cache?: KeyCacheOptions;
  /**
   * Opens only a key store a vault already opened (it holds the master key's fingerprint), failing
   * with `KeyStoreMissing` instead of creating the file: for readers of the service's keys.
   */
  readonly existingOnly?: boolean;
}

/** A row of `subject_keys`, or of `destroyed_subject_keys` (with nulls for the key's columns). */
type KeyRow =
  | { subject_id: string; key_id: string; wrapped_key: Buffer; master_key_id: string; created_at: string; destroyed_at: null }
  | { subject_id: string; key_id: null; wrapped_key: null; master_key_id: null; created_at: null; destroyed_at: string };

/**
 * Keys in their own SQLite file. `secure_delete` overwrites a deleted row with zeros in the file,
 * and the rollback journal (not WAL) is truncated at each commit, so once `destroyKey` returns no
 * page of the file or its journal holds the wrapped key. See docs/decisions/0006.
 *
 * A destroyed key leaves a row in `destroyed_subject_keys`. Each write below is one transaction
 * over both tables, and SQLite lets one writer at a time into the file, whatever its process: a
 * key cannot be inserted between a destruction's check and its record.
 */
export async function openSqliteVault(options: SqliteVaultOptions): Promise<EnvelopeVault> {
  return EnvelopeVault.open(new SqliteKeyRows(options.file, options.existingOnly === true), options.masterKey, options.cache);
}

class SqliteKeyRows implements KeyRows {
  readonly where: string;
  private readonly db: Connection;

  constructor(file: string, existingOnly: boolean) {
    this.where = file;
    this.db = existingOnly ? openExisting(file) : new Database(file, { timeout: 5000 });
    chmodSync(file, 0o600);
    this.db.pragma('journal_mode = TRUNCATE');
    this.db.pragma('secure_delete = ON');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS subject_keys (
        subject_id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        wrapped_key BLOB NOT NULL,
        master_key_id TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS destroyed_subject_keys (subject_id TEXT PRIMARY KEY, destroyed_at TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS vault_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `);
  }

  async claimMasterKeyId(candidate: string): Promise<string> {
    this.db.prepare("INSERT INTO vault_meta (name, value) VALUES ('master_key_id', ?) ON CONFLICT (name) DO NOTHING").run(candidate);
    return (this.db.prepare("SELECT value FROM vault_meta WHERE name = 'master_key_id'").get() as { value: string }).value;
  }

  async find(subjectId: string): Promise<StoredKey | undefined> {
    return this.stored(subjectId);
  }

  async insertIfAbsent(row: WrappedKeyRow): Promise<StoredKey> {
    return this.db
      .transaction(() => {
        this.db
          .prepare(
            `INSERT INTO subject_keys (subject_id, key_id, wrapped_key, master_key_id, created_at)
             SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM destroyed_subject_keys WHERE subject_id = ?)
             ON CONFLICT (subject_id) DO NOTHING`,
          )
          .run(row.subjectId, row.keyId, row.wrappedKey, row.masterKeyId, row.createdAt, row.subjectId);
        return this.stored(row.subjectId)!;
      })
      .immediate();
  }

  async destroy(subjectId: string): Promise<void> {
    this.db
      .transaction(() => {
        this.db.prepare('DELETE FROM subject_keys WHERE subject_id = ?').run(subjectId);
        this.db.prepare('INSERT INTO destroyed_subject_keys (subject_id, destroyed_at) VALUES (?, ?) ON CONFLICT (subject_id) DO NOTHING').run(subjectId, new Date().toISOString());
      })
      .immediate();
  }

  async forget(subjectId: string): Promise<void> {
    this.db
      .transaction(() => {
        this.db.prepare('DELETE FROM subject_keys WHERE subject_id = ?').run(subjectId);
        this.db.prepare('DELETE FROM destroyed_subject_keys WHERE subject_id = ?').run(subjectId);
      })
      .immediate();
  }

  /** A key is never in both tables: the record of its destruction alone goes. */
  async forgetDestroyed(subjectId: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM destroyed_subject_keys WHERE subject_id = ?').run(subjectId).changes > 0;
  }

  /** Each destroy's own transaction overwrote the key's bytes (secure_delete) and truncated the journal. */
  async scrubStatus(): Promise<ScrubStatus> {
    return SCRUBBED;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private stored(subjectId: string): StoredKey | undefined {
    const row = this.db
      .prepare(
        `SELECT subject_id, key_id, wrapped_key, master_key_id, created_at, NULL AS destroyed_at FROM subject_keys WHERE subject_id = ?
         UNION ALL
         SELECT subject_id, NULL, NULL, NULL, NULL, destroyed_at FROM destroyed_subject_keys WHERE subject_id = ?`,
      )
      .get(subjectId, subjectId) as KeyRow | undefined;
    return row && toStoredKey(row);
  }
}

function openExisting(file: string): Connection {
  let db: Connection;
  try {
    db = new Database(file, { timeout: 5000, fileMustExist: true });
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CANTOPEN') throw new KeyStoreMissing(file);
    throw error;
  }
  const holdsVault = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vault_meta'").get() !== undefined;
  if (!holdsVault || db.prepare("SELECT 1 FROM vault_meta WHERE name = 'master_key_id'").get() === undefined) {
    db.close();
    throw new KeyStoreMissing(file);
  }
  return db;
}

const toStoredKey = (row: KeyRow): StoredKey =>
  row.destroyed_at !== null
    ? DESTROYED
    : { subjectId: row.subject_id, keyId: row.key_id, wrappedKey: row.wrapped_key, masterKeyId: row.master_key_id, createdAt: row.created_at };

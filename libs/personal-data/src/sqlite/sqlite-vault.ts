import Database, { type Database as Connection } from 'better-sqlite3';
import { chmodSync } from 'node:fs';
import { EnvelopeVault, type KeyRows, type WrappedKeyRow } from '../envelope/envelope-vault';
import type { KeyCacheOptions } from '../envelope/key-cache';

export interface SqliteVaultOptions {
  /** `${DATA_DIR}/keys.sqlite`: deliberately not the event log's file, so its backups can expire sooner. */
  readonly file: string;
  readonly masterKey: Buffer;
  readonly cache?: KeyCacheOptions;
}

interface KeyRow {
  subject_id: string;
  key_id: string;
  wrapped_key: Buffer;
  master_key_id: string;
  created_at: string;
}

/**
 * Keys in their own SQLite file. `secure_delete` overwrites a deleted row with zeros in the file,
 * and the rollback journal (not WAL) is truncated at each commit, so once `destroyKey` returns no
 * page of the file or its journal holds the wrapped key. See docs/decisions/0006.
 */
export async function openSqliteVault(options: SqliteVaultOptions): Promise<EnvelopeVault> {
  return EnvelopeVault.open(new SqliteKeyRows(options.file), options.masterKey, options.cache);
}

class SqliteKeyRows implements KeyRows {
  readonly where: string;
  private readonly db: Connection;

  constructor(file: string) {
    this.where = file;
    this.db = new Database(file, { timeout: 5000 });
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
      CREATE TABLE IF NOT EXISTS vault_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    `);
  }

  async claimMasterKeyId(candidate: string): Promise<string> {
    this.db.prepare("INSERT INTO vault_meta (name, value) VALUES ('master_key_id', ?) ON CONFLICT (name) DO NOTHING").run(candidate);
    return (this.db.prepare("SELECT value FROM vault_meta WHERE name = 'master_key_id'").get() as { value: string }).value;
  }

  async find(subjectId: string): Promise<WrappedKeyRow | undefined> {
    const row = this.db.prepare('SELECT * FROM subject_keys WHERE subject_id = ?').get(subjectId) as KeyRow | undefined;
    return row && toWrappedKey(row);
  }

  async insertIfAbsent(row: WrappedKeyRow): Promise<WrappedKeyRow> {
    this.db
      .prepare(
        `INSERT INTO subject_keys (subject_id, key_id, wrapped_key, master_key_id, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (subject_id) DO NOTHING`,
      )
      .run(row.subjectId, row.keyId, row.wrappedKey, row.masterKeyId, row.createdAt);
    return (await this.find(row.subjectId))!;
  }

  async deleteAndScrub(subjectId: string): Promise<void> {
    this.db.prepare('DELETE FROM subject_keys WHERE subject_id = ?').run(subjectId);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

const toWrappedKey = (row: KeyRow): WrappedKeyRow => ({
  subjectId: row.subject_id,
  keyId: row.key_id,
  wrappedKey: row.wrapped_key,
  masterKeyId: row.master_key_id,
  createdAt: row.created_at,
});

import type { Database } from 'better-sqlite3';

interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Append-only list: a shipped migration is never edited, a change is a new version.
 *
 * `position` is the rowid with AUTOINCREMENT: SQLite has one writer at a time, so position order
 * is commit order, and AUTOINCREMENT never hands a position out twice, even after the last events
 * were removed. Its high-water mark in `sqlite_sequence` lets `verify` notice a deleted tail.
 */
const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events, stream heads and removal records',
    sql: `
      CREATE TABLE events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        stream_name TEXT NOT NULL,
        revision INTEGER NOT NULL,
        event_id TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        data TEXT NOT NULL,
        metadata TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        hash TEXT NOT NULL,
        previous_hash TEXT NOT NULL,
        UNIQUE (stream_name, revision)
      );
      CREATE TABLE streams (
        stream_name TEXT PRIMARY KEY,
        head_revision INTEGER NOT NULL,
        head_hash TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE stream_removals (
        sequence INTEGER PRIMARY KEY,
        stream_name TEXT NOT NULL,
        last_revision INTEGER NOT NULL,
        positions TEXT NOT NULL,
        last_hash TEXT NOT NULL,
        reason TEXT NOT NULL,
        removed_at TEXT NOT NULL,
        previous_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'removal details, and removals found by stream',
    // `readRemovals` asks for one stream's records on every subject export and history; without
    // the index that reads every removal ever made. Records written before have no details (NULL).
    sql: `
      ALTER TABLE stream_removals ADD COLUMN details TEXT;
      CREATE INDEX stream_removals_by_stream ON stream_removals (stream_name);
    `,
  },
];

/** Brings the file's schema up to date; safe when two processes open the same file at once. */
export function migrateSqliteSchema(db: Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const isApplied = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
  const markApplied = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations) {
    // BEGIN IMMEDIATE takes the write lock first, so a second process re-checks after the first commits.
    db.transaction(() => {
      if (isApplied.get(migration.version)) return;
      db.exec(migration.sql);
      markApplied.run(migration.version, migration.name, new Date().toISOString());
    }).immediate();
  }
}

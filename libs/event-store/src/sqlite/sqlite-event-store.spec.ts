import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEventStoreContract, type Tampering } from '../event-store.contract';
import { openSqliteEventStore, type SqliteEventStore } from './sqlite-event-store';

describe('SQLite event store', () => {
  runEventStoreContract({
    hasDensePositions: true,
    refusesEventIdReusedInAnotherStream: true,
    async open() {
      const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-sqlite-'));
      const file = join(directory, 'events.sqlite');
      const instances: SqliteEventStore[] = [openSqliteEventStore({ file, pollIntervalMs: 50 })];
      return {
        store: instances[0],
        async reopen() {
          const instance = openSqliteEventStore({ file, pollIntervalMs: 50 });
          instances.push(instance);
          return instance;
        },
        tamper: tamperingWith(file),
        async dispose() {
          await Promise.all(instances.map((instance) => instance.close()));
          rmSync(directory, { recursive: true, force: true });
        },
      };
    },
  });

  it('creates its schema once, recording the migration, when two instances open the same file', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-sqlite-'));
    const file = join(directory, 'events.sqlite');
    const first = openSqliteEventStore({ file });
    const second = openSqliteEventStore({ file });
    try {
      const raw = new Database(file, { readonly: true });
      const migrations = raw.prepare('SELECT version FROM schema_migrations').all();
      const journalMode = raw.pragma('journal_mode', { simple: true });
      raw.close();
      expect(migrations).toEqual([{ version: 1 }]);
      expect(journalMode).toBe('wal');
    } finally {
      await first.close();
      await second.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

/** Raw SQL against the file, the way someone with access to it could edit the log. */
function tamperingWith(file: string): Tampering {
  const withDatabase = (work: (db: Database.Database) => void) => {
    const db = new Database(file);
    try {
      db.transaction(() => work(db)).immediate();
    } finally {
      db.close();
    }
  };
  const contentColumns = ['event_id', 'type', 'schema_version', 'data', 'metadata', 'recorded_at', 'hash', 'previous_hash'];

  return {
    async setData(streamName, revision, data) {
      withDatabase((db) =>
        db.prepare('UPDATE events SET data = ? WHERE stream_name = ? AND revision = ?').run(JSON.stringify(data), streamName, revision),
      );
    },
    async setDataAndHash(streamName, revision, data, hash) {
      withDatabase((db) =>
        db
          .prepare('UPDATE events SET data = ?, hash = ? WHERE stream_name = ? AND revision = ?')
          .run(JSON.stringify(data), hash, streamName, revision),
      );
    },
    async deleteEvent(streamName, revision) {
      withDatabase((db) => db.prepare('DELETE FROM events WHERE stream_name = ? AND revision = ?').run(streamName, revision));
    },
    async swapContents(streamName, revisionA, revisionB) {
      withDatabase((db) => {
        const select = db.prepare(`SELECT ${contentColumns.join(', ')} FROM events WHERE stream_name = ? AND revision = ?`);
        const a = select.get(streamName, revisionA) as Record<string, unknown>;
        const b = select.get(streamName, revisionB) as Record<string, unknown>;
        const update = db.prepare(
          `UPDATE events SET ${contentColumns.map((column) => `${column} = @${column}`).join(', ')}
           WHERE stream_name = @streamName AND revision = @revision`,
        );
        update.run({ ...b, event_id: 'swap-in-progress', streamName, revision: revisionA });
        update.run({ ...a, streamName, revision: revisionB });
        update.run({ ...b, streamName, revision: revisionA });
      });
    },
    async swapPositions(streamName, revisionA, revisionB) {
      withDatabase((db) => {
        const positionOf = (revision: number) =>
          (db.prepare('SELECT position FROM events WHERE stream_name = ? AND revision = ?').get(streamName, revision) as {
            position: number;
          }).position;
        const a = positionOf(revisionA);
        const b = positionOf(revisionB);
        const move = db.prepare('UPDATE events SET position = ? WHERE position = ?');
        move.run(-a, a);
        move.run(a, b);
        move.run(b, -a);
      });
    },
    async shiftRevisions(streamName, fromRevision) {
      withDatabase((db) => {
        db.prepare('UPDATE events SET revision = -(revision + 1) WHERE stream_name = ? AND revision >= ?').run(streamName, fromRevision);
        db.prepare('UPDATE events SET revision = -revision WHERE stream_name = ? AND revision < 0').run(streamName);
      });
    },
    async insertRow(event) {
      withDatabase((db) =>
        db
          .prepare(
            `INSERT INTO events (position, stream_name, revision, event_id, type, schema_version, data, metadata, recorded_at, hash, previous_hash)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            event.position,
            event.streamName,
            event.revision,
            event.eventId,
            event.type,
            event.schemaVersion,
            JSON.stringify(event.data),
            JSON.stringify(event.metadata),
            event.recordedAt,
            event.hash,
            event.previousHash,
          ),
      );
    },
    async deleteRemovalRecords(streamName) {
      withDatabase((db) => db.prepare('DELETE FROM stream_removals WHERE stream_name = ?').run(streamName));
    },
  };
}

import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, runEventStoreContract, type Tampering } from '../event-store.contract';
import { START, type NewEvent, type StoredEvent } from '../event-store.port';
import { openSqliteEventStore, type SqliteEventStore, STREAM_NAMES_BETWEEN, STREAM_NAMES_FROM } from './sqlite-event-store';

/** Gives each test an events file of its own in a new directory, removed after the test. */
function eachTestWithAFreshFile(use: (file: string) => void): void {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'consent-ledger-sqlite-'));
    use(join(directory, 'events.sqlite'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));
}

describe('SQLite event store', () => {
  runEventStoreContract({
    hasDensePositions: true,
    refusesEventIdReusedInAnotherStream: true,
    writesAgainToRemovedStream: true,
    takesTurnsAcrossProcesses: true,
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

  // Found in review: the audit CLI's retention run (from cron) and the service's own could run at
  // once on one file; both judged a subject removable and the later one destroyed the key of a
  // subject back meanwhile. PostgreSQL held them in turn already.
  describe('work that processes must do one at a time', () => {
    let file: string;
    eachTestWithAFreshFile((fresh) => (file = fresh));

    // Closing any descriptor of a file drops every lock the process holds on it: a second run asked
    // for in the process holding the lock must not let another process in.
    it('keeps another process waiting while a second run of the holding process waits too', async () => {
      const [first, second] = [openSqliteEventStore({ file }), openSqliteEventStore({ file })];
      let finishFirst!: () => void;
      const firstRuns = first.exclusively('proof-retention-runs', () => new Promise<void>((resolve) => (finishFirst = resolve)));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const secondRuns = second.exclusively('proof-retention-runs', async () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const other = spawn(
        process.execPath,
        ['-e', `require('./dist/libs/event-store/src/sqlite/sqlite-event-store').openSqliteEventStore({ file: ${JSON.stringify(file)} }).exclusively('proof-retention-runs', async () => { console.log('took it'); process.exit(0); })`],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let output = '';
      other.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(output).toBe('');
      } finally {
        other.kill('SIGKILL');
        finishFirst();
        await Promise.all([firstRuns, secondRuns]);
        await Promise.all([first.close(), second.close()]);
      }
    }, 30_000);

    it('lets the work go on once the process holding it dies', async () => {
      // The compiled store (`npm test` builds it first), in a process of its own, as the CLI runs.
      const holder = spawn(
        process.execPath,
        [
          '-e',
          // Held by a global, as a job holds its run: a run nothing refers to any more is collected,
          // and its lock closed with it.
          `globalThis.run = require('./dist/libs/event-store/src/sqlite/sqlite-event-store').openSqliteEventStore({ file: ${JSON.stringify(file)} }).exclusively('proof-retention-runs', () => { console.log('holding'); return new Promise((resolve) => (globalThis.finish = resolve)); }); setInterval(() => {}, 1000);`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = new Promise((resolve) => holder.on('exit', resolve));
      const store = openSqliteEventStore({ file });
      try {
        await new Promise<void>((resolve) => holder.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('holding') && resolve()));
        let ran = false;
        const waiting = store.exclusively('proof-retention-runs', async () => (ran = true));
        await new Promise((resolve) => setTimeout(resolve, 600));
        expect(ran).toBe(false);

        holder.kill('SIGKILL');
        await exited;
        await waiting;
        expect(ran).toBe(true);
      } finally {
        holder.kill('SIGKILL');
        await store.close();
      }
      // A node process starting and loading the store takes seconds on a busy machine.
    }, 30_000);
  });

  describe('following the log', () => {
    let file: string;
    eachTestWithAFreshFile((fresh) => (file = fresh));

    const followerOf = (store: SqliteEventStore) => {
      const seen: StoredEvent[] = [];
      let hasCaughtUp = false;
      const subscription = store.subscribeToAll({
        after: START,
        onEvent: (event) => {
          seen.push(event);
        },
        onCaughtUp: () => {
          hasCaughtUp = true;
        },
      });
      return { seen, subscription, hasCaughtUp: () => hasCaughtUp };
    };

    it('wakes a follower at once on an append through the same instance, whatever its poll interval', async () => {
      const store = openSqliteEventStore({ file, pollIntervalMs: 600_000 });
      const follower = followerOf(store);
      try {
        await eventually(() => expect(follower.hasCaughtUp()).toBe(true));

        await store.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' });

        await eventually(() => expect(follower.seen).toHaveLength(1), 5000);
      } finally {
        await follower.subscription.close();
        await store.close();
      }
    });

    it('finds appends made by another process on the same file by polling', async () => {
      const reader = openSqliteEventStore({ file, pollIntervalMs: 50 });
      const writer = openSqliteEventStore({ file });
      const follower = followerOf(reader);
      try {
        await eventually(() => expect(follower.hasCaughtUp()).toBe(true));

        await writer.append('subject-1', [consentGiven()], { expectedRevision: 'no-stream' });

        await eventually(() => expect(follower.seen).toHaveLength(1), 5000);
      } finally {
        await follower.subscription.close();
        await Promise.all([reader.close(), writer.close()]);
      }
    });
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
      expect(migrations).toEqual([{ version: 1 }, { version: 2 }]);
      expect(journalMode).toBe('wal');
    } finally {
      await first.close();
      await second.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it.each([
    ['a page of names with the prefix', STREAM_NAMES_BETWEEN, ['rights-request-', '', 'rights-request.', 100]],
    ['a page of every name', STREAM_NAMES_FROM, ['', 'subject-1', 100]],
  ])('walks the primary key of the stream heads for %s, never every stream', async (_, sql, values) => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-sqlite-'));
    const file = join(directory, 'events.sqlite');
    try {
      await openSqliteEventStore({ file }).close();
      const raw = new Database(file, { readonly: true });
      const plan = raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...values) as Array<{ detail: string }>;
      raw.close();
      const steps = plan.map((step) => step.detail).join('; ');
      expect(steps).toMatch(/SEARCH streams USING PRIMARY KEY \(stream_name>\? AND stream_name<\?\)|SEARCH streams USING PRIMARY KEY \(stream_name>\?\)/);
      expect(steps).not.toMatch(/SCAN|TEMP B-TREE/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('finds by stream the removals a file recorded before removal details were kept, and still verifies them', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'consent-ledger-sqlite-'));
    const file = join(directory, 'events.sqlite');
    try {
      // A file kept by the previous version: one removal recorded, migration 2 not yet applied.
      const before = openSqliteEventStore({ file });
      await before.append('subject-1', [consentGiven(), consentGiven()], { expectedRevision: 'no-stream' });
      await before.removeStream('subject-1', { reason: 'proof retention ended', removedAt: '2031-05-01T00:00:00.000Z' });
      await before.close();
      const raw = new Database(file);
      raw.exec('DROP INDEX stream_removals_by_stream; ALTER TABLE stream_removals DROP COLUMN details; DELETE FROM schema_migrations WHERE version = 2');
      raw.close();

      const after = openSqliteEventStore({ file });
      try {
        const [removal] = await after.readRemovals('subject-1');
        expect(removal).toMatchObject({ streamName: 'subject-1', lastRevision: 1, removedAt: '2031-05-01T00:00:00.000Z' });
        expect(removal).not.toHaveProperty('details');
        expect(await after.verify()).toMatchObject({ intact: true });
      } finally {
        await after.close();
      }
      const migrated = new Database(file, { readonly: true });
      const plan = migrated.prepare("EXPLAIN QUERY PLAN SELECT * FROM stream_removals WHERE stream_name = 'subject-1' ORDER BY sequence").all() as Array<{ detail: string }>;
      migrated.close();
      expect(plan.map((step) => step.detail).join('; ')).toContain('USING INDEX stream_removals_by_stream');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('SQLite event store: verify reads the text it stored', () => {
  let directory: string;
  let file: string;
  let store: SqliteEventStore;
  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'consent-ledger-sqlite-'));
    file = join(directory, 'events.sqlite');
    store = openSqliteEventStore({ file });
    await store.append('subject-1', [consentGiven(), consentGiven()], { expectedRevision: 'no-stream' });
  });
  afterEach(async () => {
    await store.close();
    rmSync(directory, { recursive: true, force: true });
  });
  const rewriteData = (text: string) => {
    const db = new Database(file);
    db.prepare('UPDATE events SET data = ? WHERE stream_name = ? AND revision = 0').run(text, 'subject-1');
    db.close();
  };

  it('still finds the log intact where a row keeps the same data in another key order, as rows written before canonical text did', async () => {
    const [first] = await store.readStream('subject-1');
    const reordered = Object.fromEntries(Object.entries(first.data).reverse());
    rewriteData(JSON.stringify(reordered));

    expect(await store.verify()).toMatchObject({ intact: true, eventsChecked: 2 });
  });

  it('reports a row edited into text that is not JSON as altered, rather than failing', async () => {
    rewriteData('{"purpose": "targeted-tv-advertising-pickx", broken');

    expect(await store.verify()).toMatchObject({ intact: false, firstBreak: { kind: 'altered', streamName: 'subject-1', revision: 0 } });
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
    async setRemovalDetails(streamName, details) {
      withDatabase((db) => db.prepare('UPDATE stream_removals SET details = ? WHERE stream_name = ?').run(JSON.stringify(details), streamName));
    },
  };
}

function consentGiven(): NewEvent {
  return { eventId: randomUUID(), type: 'ConsentGiven', schemaVersion: 1, data: { purpose: 'marketing', channel: 'sms' } };
}

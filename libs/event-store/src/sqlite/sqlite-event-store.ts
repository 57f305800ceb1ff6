import Database, { type Database as Connection } from 'better-sqlite3';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { planGroup, settleGroup, type StoredEventLocation, type StreamHead } from '../append-planning';
import { toAppendRequest, type AppendRequest } from '../append-request';
import { EventStoreUnavailable, failureClassesOf, StreamRevisionConflict } from '../errors';
import {
  START,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type GlobalPosition,
  type HeldLock,
  type IntegrityReport,
  type ListStreamNamesOptions,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RemovalRecord,
  type StoreHealth,
  type StoredEvent,
  type StreamRemoval,
  type SubscribeToAllOptions,
  type Subscription,
  type VerifyOptions,
} from '../event-store.port';
import { GroupCommitQueue } from '../group-commit';
import { checkIntegrity, type StoredEventText } from '../integrity-check';
import { AppendSignal, followLog } from '../polling-subscription';
import { toLogRange, toStreamRange } from '../read-options';
import { canonicalJson } from '../hash-chain';
import { assertValidRemoval, detailsOfColumn, recordRemoval } from '../removal-record';
import { toStreamNameRange } from '../stream-name-range';
import { SubscriptionSet } from '../subscription-set';
import { migrateSqliteSchema } from './sqlite-schema';
import { useWriteAheadLog } from './write-ahead-log';

export interface SqliteEventStoreOptions {
  readonly file: string;
  /**
   * FULL (the default) syncs the WAL on every commit, so an acknowledged append survives a power
   * loss. NORMAL may lose the last commits on power loss (never on a process crash); it exists so
   * the benchmark can show what FULL costs. See ADR 0002.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** How often a caught-up subscriber looks for appends made by other processes. */
  readonly pollIntervalMs?: number;
}

/** Event rows come back as arrays (`raw` statements) in EVENT_COLUMNS order: cheaper to decode on replay. */
type EventRow = [
  position: number,
  streamName: string,
  revision: number,
  eventId: string,
  type: string,
  schemaVersion: number,
  data: string,
  metadata: string,
  recordedAt: string,
  hash: string,
  previousHash: string,
];

interface RemovalRow {
  sequence: number;
  stream_name: string;
  last_revision: number;
  positions: string;
  last_hash: string;
  reason: string;
  removed_at: string;
  details: string | null;
  previous_hash: string;
  hash: string;
}

const NO_LIMIT = -1;
/** How often `exclusively` looks again whether another process let go (a run waits for a run of minutes). */
const EXCLUSIVE_POLL_MS = 250;
const VERIFY_PAGE_SIZE = 5000;
const EVENT_COLUMNS =
  'position, stream_name, revision, event_id, type, schema_version, data, metadata, recorded_at, hash, previous_hash';

/**
 * A page of `listStreamNames`: a range of the `streams` primary key (WITHOUT ROWID, so the names
 * are the table's own b-tree, in byte order), reading only the names returned.
 */
export const STREAM_NAMES_FROM = 'SELECT stream_name FROM streams WHERE stream_name >= ? AND stream_name > ? ORDER BY stream_name LIMIT ?';
export const STREAM_NAMES_BETWEEN = 'SELECT stream_name FROM streams WHERE stream_name >= ? AND stream_name > ? AND stream_name < ? ORDER BY stream_name LIMIT ?';

/** The embedded default: one file, WAL, every append durable before it is acknowledged. */
export function openSqliteEventStore(options: SqliteEventStoreOptions): SqliteEventStore {
  return new SqliteEventStore(options);
}

export class SqliteEventStore implements EventStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Connection;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly appended = new AppendSignal();
  private readonly subscriptions = new SubscriptionSet();
  private readonly queue: GroupCommitQueue;
  private isClosed = false;

  constructor(private readonly options: SqliteEventStoreOptions) {
    // verify() reads through a second connection, which a private in-memory database cannot have.
    if (options.file === ':memory:' || options.file === '') {
      throw new TypeError('the SQLite event store needs a file; use createInMemoryEventStore for a store in memory');
    }
    try {
      mkdirSync(dirname(options.file), { recursive: true });
      this.db = new Database(options.file, { timeout: 5000 });
      useWriteAheadLog(this.db);
      this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      migrateSqliteSchema(this.db);
    } catch (error) {
      throw asUnavailable(error, `cannot open the SQLite event store at ${options.file}`);
    }
    this.statements = prepareStatements(this.db);
    // better-sqlite3 blocks the event loop during a commit, so appends never pile up on their own:
    // waiting one turn lets the callers of that turn share one transaction and one fsync.
    this.queue = new GroupCommitQueue((group) => this.writeGroup(group), {
      maxGroupsInFlight: 1,
      maxEventsPerGroup: 5000,
      maxPayloadPerGroup: 16_000_000,
      collect: 'next-turn',
    });
  }

  async append(
    streamName: string,
    events: readonly NewEvent[],
    options: { readonly expectedRevision: ExpectedRevision },
  ): Promise<AppendResult> {
    this.assertOpen();
    return this.queue.enqueue(toAppendRequest(streamName, events, options?.expectedRevision));
  }

  async readStream(streamName: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    this.assertOpen();
    const range = toStreamRange(streamName, options);
    const limit = range.maxCount ?? NO_LIMIT;
    const rows =
      range.direction === 'forwards'
        ? this.statements.readStreamForwards.all(streamName, range.fromRevision ?? 0, limit)
        : this.statements.readStreamBackwards.all(streamName, range.fromRevision ?? Number.MAX_SAFE_INTEGER, limit);
    return (rows as EventRow[]).map(toStoredEvent);
  }

  async readAll(options?: ReadAllOptions): Promise<StoredEvent[]> {
    this.assertOpen();
    const range = toLogRange(options);
    return (this.statements.readAll.all(range.after, range.maxCount ?? NO_LIMIT) as EventRow[]).map(toStoredEvent);
  }

  async listStreamNames(options: ListStreamNamesOptions): Promise<string[]> {
    this.assertOpen();
    const range = toStreamNameRange(options);
    // Every stream name is longer than '', so '' as `after` excludes none.
    const names =
      range.before === undefined
        ? this.statements.streamNamesFrom.all(range.prefix, range.after ?? '', range.limit)
        : this.statements.streamNamesBetween.all(range.prefix, range.after ?? '', range.before, range.limit);
    return names as string[];
  }

  async headPosition(): Promise<GlobalPosition> {
    this.assertOpen();
    const { head } = this.statements.headPosition.get() as { head: number | null };
    return head === null ? START : BigInt(head);
  }

  subscribeToAll(options: SubscribeToAllOptions): Subscription {
    this.assertOpen();
    return this.subscriptions.track(
      followLog(options, {
        readAll: (range) => this.readAll(range),
        appended: this.appended,
        pollIntervalMs: this.options.pollIntervalMs ?? 200,
      }),
    );
  }

  async verify(options: VerifyOptions = {}): Promise<IntegrityReport> {
    this.assertOpen();
    // A second, read-only connection holds one snapshot for the whole walk while appends go on.
    const snapshot = new Database(this.options.file, { readonly: true, fileMustExist: true });
    try {
      snapshot.exec('BEGIN');
      return await checkIntegrity(sqliteEvidence(snapshot, options.streamName), options.onProgress);
    } finally {
      snapshot.close();
    }
  }

  async removeStream(streamName: string, removal: StreamRemoval): Promise<void> {
    this.assertOpen();
    assertValidRemoval(streamName, removal);
    const db = this.db;
    db.transaction(() => {
      const positions = (db.prepare('SELECT position FROM events WHERE stream_name = ? ORDER BY revision').all(streamName) as Array<{
        position: number;
      }>).map((row) => BigInt(row.position));
      if (positions.length === 0) return;
      const head = db.prepare('SELECT head_revision, head_hash FROM streams WHERE stream_name = ?').get(streamName) as {
        head_revision: number;
        head_hash: string;
      };
      if (removal.expectedRevision !== undefined && head.head_revision !== removal.expectedRevision) {
        throw new StreamRevisionConflict(streamName, removal.expectedRevision, head.head_revision);
      }
      const previous = db.prepare('SELECT * FROM stream_removals ORDER BY sequence DESC LIMIT 1').get() as RemovalRow | undefined;
      const record = recordRemoval(
        previous && toRemovalRecord(previous),
        { streamName, lastRevision: head.head_revision, positions, lastHash: head.head_hash },
        removal,
      );
      db.prepare(
        `INSERT INTO stream_removals (sequence, stream_name, last_revision, positions, last_hash, reason, removed_at, details, previous_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        record.sequence,
        record.streamName,
        record.lastRevision,
        JSON.stringify(record.positions.map(String)),
        record.lastHash,
        record.reason,
        record.removedAt,
        record.details === undefined ? null : canonicalJson(record.details),
        record.previousHash,
        record.hash,
      );
      db.prepare('DELETE FROM events WHERE stream_name = ?').run(streamName);
      db.prepare('DELETE FROM streams WHERE stream_name = ?').run(streamName);
    }).immediate();
  }

  async readRemovals(streamName: string): Promise<RemovalRecord[]> {
    this.assertOpen();
    return (this.statements.removalsOfStream.all(streamName) as RemovalRow[]).map(toRemovalRecord);
  }

  async health(): Promise<StoreHealth> {
    if (this.isClosed) return { ready: false, detail: 'store is closed' };
    try {
      this.db.prepare('SELECT 1').get();
      return { ready: true };
    } catch (error) {
      return { ready: false, detail: failureClassesOf(error) };
    }
  }

  async exclusively<T>(name: string, work: (lock: HeldLock) => Promise<T>): Promise<T> {
    this.assertOpen();
    // A file of its own beside the log, held in an exclusive transaction for as long as the work
    // takes (a retention run takes minutes): the log's own write lock would hold every append back
    // meanwhile. The operating system lets go of a dead process's file lock, as PostgreSQL does of
    // a dead session's advisory lock. Waiting is polled: better-sqlite3's busy wait would block
    // this process's event loop, and with it every request.
    const lockFile = `${this.options.file}.${name.replace(/[^A-Za-z0-9-]/g, '_')}.lock`;
    let lock: Connection;
    try {
      lock = new Database(lockFile, { timeout: 0 });
      // Empty, and never written: readable by this user only all the same, like every file of
      // DATA_DIR. Not made by opening it ourselves: closing any descriptor of a file drops every
      // lock this process holds on it, the lock another run of this process might hold included.
      chmodSync(lockFile, 0o600);
    } catch (error) {
      throw asUnavailable(error, `cannot open the ${name} lock at ${lockFile}`);
    }
    try {
      for (;;) {
        try {
          lock.exec('BEGIN EXCLUSIVE');
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw asUnavailable(error, `cannot take the ${name} lock at ${lockFile}`);
        }
        await delay(EXCLUSIVE_POLL_MS);
        this.assertOpen();
      }
      // The file lock goes only with this process, or with this store's close.
      return await work({ assertHeld: () => this.assertOpen() });
    } finally {
      lock.close();
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.queue.drain();
    await this.subscriptions.closeAll();
    this.db.close();
  }

  private async writeGroup(group: readonly AppendRequest[]): Promise<Array<AppendResult | Error>> {
    const { statements } = this;
    try {
      const outcomes = this.db
        .transaction(() => {
          const heads = new Map<string, StreamHead>();
          for (const { streamName } of group) {
            const head = statements.selectHead.get(streamName) as { head_revision: number; head_hash: string } | undefined;
            if (head) heads.set(streamName, { revision: head.head_revision, hash: head.head_hash });
          }
          const stored = new Map<string, StoredEventLocation>();
          for (const event of group.flatMap((request) => request.events)) {
            const row = statements.locateEvent.get(event.eventId) as
              | { stream_name: string; revision: number; position: number }
              | undefined;
            if (row) stored.set(event.eventId, { streamName: row.stream_name, revision: row.revision, position: BigInt(row.position) });
          }
          const plan = planGroup(group, heads, stored, new Date().toISOString());
          const positions = plan.rows.map((row) =>
            BigInt(
              statements.insertEvent.run(
                row.streamName,
                row.revision,
                row.eventId,
                row.type,
                row.schemaVersion,
                row.dataJson,
                row.metadataJson,
                row.recordedAt,
                row.hash,
                row.previousHash,
              ).lastInsertRowid,
            ),
          );
          for (const [streamName, head] of plan.newHeads) statements.upsertHead.run(streamName, head.revision, head.hash);
          return { outcomes: settleGroup(plan, positions), wroteEvents: plan.rows.length > 0 };
        })
        .immediate();
      if (outcomes.wroteEvents) this.appended.notify();
      return outcomes.outcomes;
    } catch (error) {
      throw asUnavailable(error, 'the SQLite event store could not commit the append');
    }
  }

  private assertOpen(): void {
    if (this.isClosed) throw new EventStoreUnavailable(`the SQLite event store at ${this.options.file} is closed`);
  }
}

function prepareStatements(db: Connection) {
  return {
    selectHead: db.prepare('SELECT head_revision, head_hash FROM streams WHERE stream_name = ?'),
    locateEvent: db.prepare('SELECT stream_name, revision, position FROM events WHERE event_id = ?'),
    insertEvent: db.prepare(
      `INSERT INTO events (stream_name, revision, event_id, type, schema_version, data, metadata, recorded_at, hash, previous_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    upsertHead: db.prepare(
      `INSERT INTO streams (stream_name, head_revision, head_hash) VALUES (?, ?, ?)
       ON CONFLICT (stream_name) DO UPDATE SET head_revision = excluded.head_revision, head_hash = excluded.head_hash`,
    ),
    readStreamForwards: db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_name = ? AND revision >= ? ORDER BY revision LIMIT ?`)
      .raw(),
    readStreamBackwards: db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_name = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`)
      .raw(),
    readAll: db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`).raw(),
    headPosition: db.prepare('SELECT max(position) AS head FROM events'),
    streamNamesFrom: db.prepare(STREAM_NAMES_FROM).pluck(),
    streamNamesBetween: db.prepare(STREAM_NAMES_BETWEEN).pluck(),
    removalsOfStream: db.prepare('SELECT * FROM stream_removals WHERE stream_name = ? ORDER BY sequence'),
  };
}

function sqliteEvidence(snapshot: Connection, streamName: string | undefined) {
  const removals = (snapshot.prepare('SELECT * FROM stream_removals ORDER BY sequence').all() as RemovalRow[]).map(toRemovalRecord);
  const headRows = (
    streamName === undefined
      ? snapshot.prepare('SELECT stream_name, head_revision, head_hash FROM streams').all()
      : snapshot.prepare('SELECT stream_name, head_revision, head_hash FROM streams WHERE stream_name = ?').all(streamName)
  ) as Array<{ stream_name: string; head_revision: number; head_hash: string }>;
  const sequence = snapshot.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
  const streamPage = snapshot
    .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_name = ? AND revision > ? ORDER BY revision LIMIT ${VERIFY_PAGE_SIZE}`)
    .raw();
  const logPage = snapshot.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ${VERIFY_PAGE_SIZE}`).raw();
  const wholeStream = snapshot.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_name = ? ORDER BY revision`).raw();

  return {
    streamName,
    removals,
    heads: new Map(headRows.map((row) => [row.stream_name, { revision: row.head_revision, hash: row.head_hash }])),
    lastAssignedPosition: BigInt(sequence?.seq ?? 0),
    async *events() {
      let after = streamName === undefined ? 0n : -1n;
      for (;;) {
        const rows = (streamName === undefined ? logPage.all(after) : streamPage.all(streamName, after)) as EventRow[];
        if (rows.length === 0) return;
        const page = rows.map(toStoredEventText);
        yield page;
        const last = page[page.length - 1];
        after = streamName === undefined ? last.position : BigInt(last.revision);
      }
    },
    async streamEvents(name: string) {
      return (wholeStream.all(name) as EventRow[]).map(toStoredEventText);
    },
  };
}

/** For verify: data and metadata as the canonical text the store keeps, hashed without parsing. */
function toStoredEventText(row: EventRow): StoredEventText {
  return {
    streamName: row[1],
    revision: row[2],
    position: BigInt(row[0]),
    eventId: row[3],
    type: row[4],
    schemaVersion: row[5],
    dataJson: row[6],
    metadataJson: row[7],
    recordedAt: row[8],
    hash: row[9],
    previousHash: row[10],
  };
}

/** Built field by field, not spread from the text form: this is replay's hot loop. */
function toStoredEvent(row: EventRow): StoredEvent {
  return {
    streamName: row[1],
    revision: row[2],
    position: BigInt(row[0]),
    eventId: row[3],
    type: row[4],
    schemaVersion: row[5],
    data: JSON.parse(row[6]) as Record<string, unknown>,
    metadata: JSON.parse(row[7]) as Record<string, unknown>,
    recordedAt: row[8],
    hash: row[9],
    previousHash: row[10],
  };
}

function toRemovalRecord(row: RemovalRow): RemovalRecord {
  return {
    sequence: row.sequence,
    streamName: row.stream_name,
    lastRevision: row.last_revision,
    positions: (JSON.parse(row.positions) as string[]).map(BigInt),
    lastHash: row.last_hash,
    reason: row.reason,
    removedAt: row.removed_at,
    ...detailsOfColumn(row.details),
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}

const unavailableCodes = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL)/;

function asUnavailable(error: unknown, message: string): unknown {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && unavailableCodes.test(code)) {
    return new EventStoreUnavailable(`${message}: ${(error as Error).message}`, error);
  }
  return error;
}

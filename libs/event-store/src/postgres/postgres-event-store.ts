import { Client, Pool, type PoolClient } from 'pg';
import type { AppendRequest } from '../append-request';
import { toAppendRequest } from '../append-request';
import { AppendOutcomeUnknown, EventStoreUnavailable, failureClassesOf, StreamRevisionConflict } from '../errors';
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
import { CoalescedStreamReads } from '../coalesced-stream-reads';
import { GroupCommitQueue } from '../group-commit';
import { checkIntegrity, type IntegrityEvidence, type StoredEventText } from '../integrity-check';
import { AppendSignal, followLog } from '../polling-subscription';
import { toLogRange, toStreamRange } from '../read-options';
import { canonicalJson } from '../hash-chain';
import { assertValidRemoval, detailsOfColumn, recordRemoval } from '../removal-record';
import { toStreamNameRange } from '../stream-name-range';
import { SubscriptionSet } from '../subscription-set';
import { connectionWaitMs, isAnswerLate, withAnswerTimeout } from './answer-timeout';
import { closeOutright, watchAnswers } from './answer-watch';
import { asUnavailable, isConnectionFailure, isNoConnectionInTime, isWorthRetrying } from './postgres-errors';
import { selectEvents, selectEventTexts, STREAMS_FROM_REVISIONS } from './postgres-event-pages';
import { KnownStreamHeads } from './known-stream-heads';
import { REQUEST_LOCK_TIMEOUT, withSessionSetting } from './connection-string';
import { checkOutClient } from './pool-clients';
import { appendGroup, appendGroupInOneStatement, OneStatementLost, UNPROTECTED_POSITION_SEQUENCE } from './postgres-group-append';
import { ADVISORY_LOCK_SPACE, migratePostgresSchema } from './postgres-schema';

export interface PostgresEventStoreOptions {
  /** The store owns the tables of the connection's current schema; give it a schema of its own. */
  readonly url: string;
  readonly poolSize?: number;
  /**
   * Shown in pg_stat_activity: the pool's connections under this name (`consent-ledger-event-store`
   * by default), the one waking subscribers with `-listen` after it, the one holding a maintenance
   * lock (`exclusively`) with `-lock`.
   */
  readonly applicationName?: string;
  /** How often a caught-up subscriber reads again when no NOTIFY arrived (a lost LISTEN connection). */
  readonly pollIntervalMs?: number;
  /** Append transactions in flight at once; the second prepares while the first commits. */
  readonly maxGroupsInFlight?: number;
  /**
   * How long a statement serving a request waits for PostgreSQL's answer before its connection is
   * closed and the caller told the store is unavailable: appends, stream reads, the head, pages of
   * the log, a stream's removals, the health probe (see answer-timeout.ts). Also bounds the wait
   * for a connection, and how long an append transaction may sit idle on the server. Unset: as
   * long as it takes. Verify, removals, whole-log reads, `exclusively` and migrations never have
   * one: they may rightly take minutes.
   */
  readonly answerTimeoutMs?: number;
  /**
   * For a process nobody is there to stop (the auditor CLI): every statement `answerTimeoutMs`
   * leaves without a limit is given up too, once PostgreSQL has been silent on it this long and
   * cannot say it is still working on it (answer-watch.ts). A walk or a wait for a lock that
   * PostgreSQL is busy with goes on for as long as it takes. Also bounds the wait for a connection.
   * Unset: as long as it takes.
   */
  readonly silenceTimeoutMs?: number;
  /** Seams for the ordering tests. Never set outside tests. */
  readonly forTestsOnly?: {
    /** `false` takes positions from a plain sequence without the counter lock: the bug the counter prevents. */
    readonly orderingProtection?: boolean;
    /** Runs inside every append transaction after its events are written, just before COMMIT. */
    readonly beforeCommit?: () => Promise<void>;
  };
}

/** The one-statement append's outcomes, or why the transaction path must take the group. */
type OneStatementOutcome =
  | { readonly outcomes: Array<AppendResult | Error> }
  /** `mayHaveCommitted`: the statement lost its connection, maybe after its commit. */
  | { readonly outcomes?: undefined; readonly mayHaveCommitted: boolean };

interface RemovalRow {
  sequence: number;
  stream_name: string;
  last_revision: number;
  positions: string[];
  last_hash: string;
  reason: string;
  removed_at: string;
  details: unknown;
  previous_hash: string;
  hash: string;
}

const MAX_REVISION = 2_147_483_647;
const VERIFY_PAGE_SIZE = 5000;
const ATTEMPTS_PER_GROUP = 4;
/** About 150 bytes each: the heads of the streams a busy process is likely to append to again soon. */
const KNOWN_HEADS = 100_000;

/** Opens the production store: runs pending migrations, then serves appends through group commit. */
export async function openPostgresEventStore(options: PostgresEventStoreOptions): Promise<PostgresEventStore> {
  const pool = new Pool({
    connectionString: storeSessionSettings(options.url, options.answerTimeoutMs),
    max: options.poolSize ?? 10,
    application_name: applicationNameOf(options),
    connectionTimeoutMillis: connectionWaitMs(options.answerTimeoutMs ?? options.silenceTimeoutMs),
  });
  // An idle client that loses its connection emits here; the next query reports the failure.
  pool.on('error', () => undefined);
  const { silenceTimeoutMs } = options;
  if (silenceTimeoutMs !== undefined) pool.on('connect', (client) => watchAnswers(client, { url: options.url, timeoutMs: silenceTimeoutMs }));
  let schema: string;
  try {
    const client = await checkOutClient(pool);
    try {
      await migratePostgresSchema(client);
      if (options.forTestsOnly?.orderingProtection === false) {
        await client.query(`CREATE SEQUENCE IF NOT EXISTS ${UNPROTECTED_POSITION_SEQUENCE}`);
      }
      schema = (await client.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0].schema;
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw asUnavailable(error, 'cannot open the PostgreSQL event store');
  }
  return new PostgresEventStore(pool, schema, options);
}

/**
 * Every statement of the store finds its rows through an index, and a prepared statement keeps
 * the plan it made first: made while `streams` had one page, it scanned the table whole on every
 * append until the next analyze. Scans stay possible, as the last resort (the one-row position
 * counter has nothing else); their penalty in the plan's cost would then make PostgreSQL compile
 * the statement (JIT), half a second each time, for statements that run in a millisecond.
 *
 * With an answer timeout, an append transaction left idle for as long is ended by PostgreSQL:
 * one whose COMMIT was lost in a network cut stays open on the server, which does not hear of
 * the connection's end either until TCP's retransmission gets through, and it holds the position
 * counter's lock that every append needs. Its client gave up on it already. Verify and removals
 * turn this off for their own transactions.
 */
function storeSessionSettings(url: string, answerTimeoutMs: number | undefined): string {
  const settings: Array<[string, string]> = [
    ['lock_timeout', REQUEST_LOCK_TIMEOUT],
    ['enable_seqscan', 'off'],
    ['jit', 'off'],
    ...(answerTimeoutMs === undefined ? [] : [['idle_in_transaction_session_timeout', String(answerTimeoutMs)] as [string, string]]),
  ];
  return settings.reduce((connection, [name, value]) => withSessionSetting(connection, name, value), url);
}

/** For a maintenance transaction, which may sit idle between statements as long as its work takes. */
const WITHOUT_IDLE_LIMIT = 'SET LOCAL idle_in_transaction_session_timeout = 0';

export class PostgresEventStore implements EventStore {
  readonly kind = 'postgres' as const;
  private readonly appended = new AppendSignal();
  private readonly subscriptions = new SubscriptionSet();
  private readonly queue: GroupCommitQueue;
  private readonly forwardStreamReads: CoalescedStreamReads;
  private readonly notifyChannel: string;
  private readonly isOrderingProtected: boolean;
  private readonly knownHeads = new KnownStreamHeads(KNOWN_HEADS);
  private listener?: Promise<Client | undefined>;
  private isClosed = false;

  constructor(
    private readonly pool: Pool,
    schema: string,
    private readonly options: PostgresEventStoreOptions,
  ) {
    this.notifyChannel = `event_store_${schema}`.slice(0, 63);
    this.isOrderingProtected = options.forTestsOnly?.orderingProtection !== false;
    this.queue = new GroupCommitQueue((group) => this.writeGroup(group), {
      maxGroupsInFlight: options.maxGroupsInFlight ?? 2,
      maxEventsPerGroup: 2000,
      maxPayloadPerGroup: 16_000_000,
      collect: 'when-idle',
    });
    // Two queries at a time: under load each carries more streams, and every statement costs the
    // caller a socket write; a second one keeps reads moving past a long stream.
    this.forwardStreamReads = new CoalescedStreamReads((fromRevisions) => this.readStreamsFrom(fromRevisions), {
      maxInFlight: 2,
      maxStreamsPerQuery: 200,
    });
  }

  /**
   * Resolves after COMMIT returned. When the connection drops during COMMIT the outcome is unknown
   * and the append rejects with EventStoreUnavailable: retry it with the same event ids.
   */
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
    if (range.direction === 'forwards' && range.maxCount === undefined) {
      return this.read(() => this.forwardStreamReads.read(streamName, Math.min(range.fromRevision ?? 0, MAX_REVISION)));
    }
    const isForwards = range.direction === 'forwards';
    const from = Math.min(range.fromRevision ?? (isForwards ? 0 : MAX_REVISION), MAX_REVISION);
    return this.read(() =>
      selectEvents(
        this.pool,
        isForwards ? 'stream_name = $1 AND revision >= $2' : 'stream_name = $1 AND revision <= $2',
        isForwards ? 'revision' : 'revision DESC',
        '$3',
        [streamName, from, range.maxCount ?? null],
        'events',
        this.options.answerTimeoutMs,
      ),
    );
  }

  async readAll(options?: ReadAllOptions): Promise<StoredEvent[]> {
    this.assertOpen();
    const range = toLogRange(options);
    // A page is a bounded read (a subscription's, the in-process projections' among them); the
    // whole log is a walk, which may take as long as the log is long.
    const answerTimeoutMs = range.maxCount === undefined ? undefined : this.options.answerTimeoutMs;
    return this.read(() => selectEvents(this.pool, 'position > $1', 'position', '$2', [range.after.toString(), range.maxCount ?? null], 'events', answerTimeoutMs));
  }

  async listStreamNames(options: ListStreamNamesOptions): Promise<string[]> {
    this.assertOpen();
    const range = toStreamNameRange(options);
    // Every stream name is longer than '', so '' as `after` excludes none.
    const rows =
      range.before === undefined
        ? await this.query<{ stream_name: string }>(STREAM_NAMES_FROM, [range.prefix, range.after ?? '', range.limit])
        : await this.query<{ stream_name: string }>(STREAM_NAMES_BETWEEN, [range.prefix, range.after ?? '', range.limit, range.before]);
    return rows.map((row) => row.stream_name);
  }

  async headPosition(): Promise<GlobalPosition> {
    this.assertOpen();
    const [row] = await this.query<{ head: string | null }>('SELECT max(position)::text AS head FROM events', [], this.options.answerTimeoutMs);
    return row.head === null ? START : BigInt(row.head);
  }

  subscribeToAll(options: SubscribeToAllOptions): Subscription {
    this.assertOpen();
    return this.subscriptions.track(
      followLog(options, {
        readAll: (range) => this.readAll(range),
        appended: this.appended,
        pollIntervalMs: this.options.pollIntervalMs ?? 2000,
        beforeWaiting: () => this.listenForAppends(),
      }),
    );
  }

  async verify(options: VerifyOptions = {}): Promise<IntegrityReport> {
    this.assertOpen();
    const client = await this.connect();
    try {
      // One snapshot for the whole walk, so appends made meanwhile cannot look like tampering.
      await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${WITHOUT_IDLE_LIMIT}`);
      const evidence = await this.collectEvidence(client, options.streamName);
      const report = await checkIntegrity(evidence, options.onProgress);
      await client.query('COMMIT');
      client.release();
      return report;
    } catch (error) {
      client.release(true);
      throw asUnavailable(error, 'cannot verify the PostgreSQL event store');
    }
  }

  async removeStream(streamName: string, removal: StreamRemoval): Promise<void> {
    this.assertOpen();
    assertValidRemoval(streamName, removal);
    const client = await this.connect();
    try {
      await client.query(`BEGIN; ${WITHOUT_IDLE_LIMIT}`);
      // Removal records chain to each other, so removals take turns.
      await client.query("SELECT pg_advisory_xact_lock($1, hashtext('stream_removals'))", [ADVISORY_LOCK_SPACE]);
      const head = await client.query<{ head_revision: number; head_hash: string }>(
        'SELECT head_revision, head_hash FROM streams WHERE stream_name = $1 FOR UPDATE',
        [streamName],
      );
      const positions = await client.query<{ position: string }>(
        'SELECT position::text AS position FROM events WHERE stream_name = $1 ORDER BY revision',
        [streamName],
      );
      if (head.rows.length === 0 || positions.rows.length === 0) {
        await client.query('ROLLBACK');
        client.release();
        return;
      }
      if (removal.expectedRevision !== undefined && head.rows[0].head_revision !== removal.expectedRevision) {
        throw new StreamRevisionConflict(streamName, removal.expectedRevision, head.rows[0].head_revision);
      }
      const previous = await client.query<RemovalRow>(`${SELECT_REMOVALS} ORDER BY sequence DESC LIMIT 1`);
      const record = recordRemoval(
        previous.rows[0] && toRemovalRecord(previous.rows[0]),
        {
          streamName,
          lastRevision: head.rows[0].head_revision,
          positions: positions.rows.map((row) => BigInt(row.position)),
          lastHash: head.rows[0].head_hash,
        },
        removal,
      );
      await client.query(
        `INSERT INTO stream_removals (sequence, stream_name, last_revision, positions, last_hash, reason, removed_at, details, previous_hash, hash)
         VALUES ($1, $2, $3, $4::bigint[], $5, $6, $7, $8::json, $9, $10)`,
        [
          record.sequence,
          record.streamName,
          record.lastRevision,
          record.positions.map(String),
          record.lastHash,
          record.reason,
          record.removedAt,
          record.details === undefined ? null : canonicalJson(record.details),
          record.previousHash,
          record.hash,
        ],
      );
      await client.query('DELETE FROM events WHERE stream_name = $1', [streamName]);
      await client.query('DELETE FROM streams WHERE stream_name = $1', [streamName]);
      await client.query('COMMIT');
      this.knownHeads.forget(streamName);
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (error instanceof StreamRevisionConflict) {
        client.release();
        throw error;
      }
      client.release(true);
      throw asUnavailable(error, `cannot remove stream ${streamName}`);
    }
  }

  async readRemovals(streamName: string): Promise<RemovalRecord[]> {
    this.assertOpen();
    // A subject's history and export ask for one stream's records: a request's read.
    const rows = await this.query<RemovalRow>(`${SELECT_REMOVALS} WHERE stream_name = $1 ORDER BY sequence`, [streamName], this.options.answerTimeoutMs);
    return rows.map(toRemovalRecord);
  }

  async health(): Promise<StoreHealth> {
    if (this.isClosed) return { ready: false, detail: 'store is closed' };
    try {
      // A probe asks every few seconds: without the timeout, each one sent into a network cut kept
      // a connection of the pool until TCP gave up, and after a long cut none was left for appends.
      await this.pool.query(withAnswerTimeout({ text: 'SELECT 1' }, this.options.answerTimeoutMs));
      return { ready: true };
    } catch (error) {
      return { ready: false, detail: failureClassesOf(error) };
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.queue.drain();
    await this.subscriptions.closeAll();
    const listener = await this.listener?.catch(() => undefined);
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }

  private async writeGroup(group: readonly AppendRequest[]): Promise<Array<AppendResult | Error>> {
    const oneStatement = await this.writeGroupInOneStatement(group);
    if (oneStatement.outcomes) return oneStatement.outcomes;
    try {
      return await this.writeGroupInTransaction(group);
    } catch (error) {
      // Only the transaction path's look under the locks could have told whether the lost statement
      // committed: saying nothing was recorded would be false, and a caller believing it may send
      // the choice again under a new key.
      if (!oneStatement.mayHaveCommitted || error instanceof AppendOutcomeUnknown || !(error instanceof EventStoreUnavailable)) throw error;
      throw new AppendOutcomeUnknown(`PostgreSQL lost the connection of an append, which may have been committed, and then ${error.message}`, error);
    }
  }

  private async writeGroupInTransaction(group: readonly AppendRequest[]): Promise<Array<AppendResult | Error>> {
    for (let attempt = 1; ; attempt += 1) {
      const client = await this.connect();
      try {
        const { outcomes, wroteEvents, newHeads } = await appendGroup(client, group, {
          orderingProtection: this.isOrderingProtected,
          notifyChannel: this.notifyChannel,
          beforeCommit: this.options.forTestsOnly?.beforeCommit,
          answerTimeoutMs: this.options.answerTimeoutMs,
        });
        client.release();
        if (wroteEvents) this.appended.notify();
        for (const [streamName, head] of newHeads) this.knownHeads.afterAppend(streamName, head);
        return outcomes;
      } catch (error) {
        // A ROLLBACK would wait behind a statement still unanswered: closing the connection rolls back.
        const isBroken = error instanceof AppendOutcomeUnknown || isConnectionFailure(error);
        if (!isBroken) await client.query(withAnswerTimeout({ text: 'ROLLBACK' }, this.options.answerTimeoutMs)).catch(() => undefined);
        client.release(isBroken);
        if (attempt < ATTEMPTS_PER_GROUP && isWorthRetrying(error)) continue;
        throw asUnavailable(error, 'the PostgreSQL event store could not commit the append');
      }
    }
  }

  /**
   * The fast path: one round trip when the heads are known. Any failure, a moved head or a lost
   * connection alike, leaves the group to the transaction path, which looks the event ids up
   * under the locks and so also answers a group this statement committed before the failure; when
   * it cannot, after a lost connection, the group may have been committed (`writeGroup`).
   * But not a statement unanswered in time, nor a connection not had in time: the transaction
   * path would wait as long again, on a network that may be swallowing everything, while every
   * append queued behind this group waits too. The test seams hook into the transaction path,
   * so they turn this one off.
   */
  private async writeGroupInOneStatement(group: readonly AppendRequest[]): Promise<OneStatementOutcome> {
    if (!this.isOrderingProtected || this.options.forTestsOnly?.beforeCommit) return { mayHaveCommitted: false };
    try {
      const written = await appendGroupInOneStatement(
        this.pool,
        group,
        (streamName) => this.knownHeads.get(streamName),
        this.notifyChannel,
        this.options.answerTimeoutMs,
      );
      if (!written) return { mayHaveCommitted: false };
      this.appended.notify();
      for (const [streamName, head] of written.newHeads) this.knownHeads.afterAppend(streamName, head);
      return { outcomes: written.outcomes };
    } catch (error) {
      for (const { streamName } of group) this.knownHeads.forget(streamName);
      const isLost = error instanceof OneStatementLost;
      const failure = isLost ? error.cause : error;
      if (isAnswerLate(failure)) throw new AppendOutcomeUnknown('PostgreSQL did not answer an append in time: it may have been committed', failure);
      if (isNoConnectionInTime(failure)) throw new EventStoreUnavailable(`cannot reach PostgreSQL: ${(failure as Error).message}`, failure);
      return { mayHaveCommitted: isLost };
    }
  }

  private async collectEvidence(client: PoolClient, streamName: string | undefined): Promise<IntegrityEvidence> {
    const removals = (await client.query<RemovalRow>(`${SELECT_REMOVALS} ORDER BY sequence`)).rows.map(toRemovalRecord);
    const heads = await client.query<{ stream_name: string; head_revision: number; head_hash: string }>(
      streamName === undefined
        ? 'SELECT stream_name, head_revision, head_hash FROM streams'
        : 'SELECT stream_name, head_revision, head_hash FROM streams WHERE stream_name = $1',
      streamName === undefined ? [] : [streamName],
    );
    const lastAssigned = await client.query<{ last: string }>(
      this.isOrderingProtected
        ? 'SELECT last_position::text AS last FROM event_positions'
        : `SELECT CASE WHEN is_called THEN last_value ELSE 0 END::text AS last FROM ${UNPROTECTED_POSITION_SEQUENCE}`,
    );
    const readPage = (after: bigint): Promise<StoredEventText[]> =>
      streamName === undefined
        ? selectEventTexts(client, 'position > $1', 'position', String(VERIFY_PAGE_SIZE), [after.toString()])
        : selectEventTexts(client, 'stream_name = $1 AND revision > $2', 'revision', String(VERIFY_PAGE_SIZE), [streamName, after.toString()]);

    return {
      streamName,
      removals,
      heads: new Map(heads.rows.map((row) => [row.stream_name, { revision: row.head_revision, hash: row.head_hash }])),
      lastAssignedPosition: BigInt(lastAssigned.rows[0].last),
      async *events() {
        let after = streamName === undefined ? 0n : -1n;
        for (;;) {
          const page = await readPage(after);
          if (page.length === 0) return;
          yield page;
          const last = page[page.length - 1];
          after = streamName === undefined ? last.position : BigInt(last.revision);
        }
      },
      async streamEvents(name) {
        return selectEventTexts(client, 'stream_name = $1', 'revision', 'ALL', [name]);
      },
    };
  }

  /** Opens (or reopens, after a lost connection) the LISTEN connection that wakes subscribers. */
  private async listenForAppends(): Promise<void> {
    if (this.isClosed) return;
    this.listener ??= this.openListener().catch(() => {
      this.listener = undefined;
      return undefined;
    });
    await this.listener;
  }

  private async openListener(): Promise<Client> {
    const client = new Client({ connectionString: this.options.url, application_name: `${applicationNameOf(this.options)}-listen` });
    const forget = () => {
      this.listener = undefined;
      client.end().catch(() => undefined);
    };
    client.on('error', forget);
    client.on('notification', () => this.appended.notify());
    await client.connect();
    await client.query(`LISTEN "${this.notifyChannel.replace(/"/g, '""')}"`);
    if (this.isClosed) {
      await client.end();
      return client;
    }
    client.on('end', forget);
    // Appends committed while nobody listened would otherwise wait for the next poll.
    this.appended.notify();
    return client;
  }

  async exclusively<T>(name: string, work: (lock: HeldLock) => Promise<T>): Promise<T> {
    this.assertOpen();
    // A connection of its own, outside the pool, for as long as the work takes (a retention run
    // takes minutes), so appends keep every pooled connection. A session lock, not a
    // transaction's: a transaction open for a whole run would keep old row versions, the bytes of
    // the keys the run destroys among them, from being rewritten away. A process that dies closes
    // the connection, which lets go of the lock.
    const { silenceTimeoutMs } = this.options;
    const client = new Client({
      connectionString: this.options.url,
      application_name: `${applicationNameOf(this.options)}-lock`,
      ...(silenceTimeoutMs !== undefined && { connectionTimeoutMillis: connectionWaitMs(silenceTimeoutMs) }),
    });
    client.on('error', () => undefined);
    // The wait for the lock is PostgreSQL's work (another run holds it): watched, it goes on.
    if (silenceTimeoutMs !== undefined) watchAnswers(client, { url: this.options.url, timeoutMs: silenceTimeoutMs });
    try {
      await client.connect();
      await client.query('SELECT pg_advisory_lock($1, hashtext(current_schema() || $2))', [ADVISORY_LOCK_SPACE, `:${name}`]);
    } catch (error) {
      await this.endLockConnection(client);
      throw new EventStoreUnavailable(`cannot take the ${name} lock: ${(error as Error).message}`, error);
    }
    // Found in review: a session ended under the work (terminated, idle_session_timeout, a restart)
    // let go of the lock, and another process's run went on beside this one, which kept going.
    let lost: Error | undefined;
    const loseLock = (error?: Error) => (lost ??= new EventStoreUnavailable(`the ${name} lock was lost: the session holding it ended${error ? ` (${error.message})` : ''}`, error));
    client.on('error', loseLock);
    client.on('end', () => loseLock());
    const lock: HeldLock = {
      assertHeld: () => {
        if (lost) throw lost;
      },
    };
    try {
      return await work(lock);
    } finally {
      await this.endLockConnection(client);
    }
  }

  /**
   * Ending a session waits for PostgreSQL to close it, which a server out of reach never does:
   * with a silence timeout, the connection is closed outright after it (the server lets go of the
   * lock once it hears of that), so that the work's own failure reaches the caller.
   */
  private async endLockConnection(client: Client): Promise<void> {
    const ended = client.end().catch(() => undefined);
    const { silenceTimeoutMs } = this.options;
    if (silenceTimeoutMs === undefined) return ended;
    let waiting: NodeJS.Timeout | undefined;
    const isEnded = await Promise.race([ended.then(() => true), new Promise<boolean>((resolve) => (waiting = setTimeout(() => resolve(false), silenceTimeoutMs)))]);
    clearTimeout(waiting);
    if (!isEnded) closeOutright(client);
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await checkOutClient(this.pool);
    } catch (error) {
      throw new EventStoreUnavailable(`cannot reach PostgreSQL: ${(error as Error).message}`, error);
    }
  }

  private async query<Row extends object>(sql: string, values: unknown[] = [], answerTimeoutMs?: number): Promise<Row[]> {
    return this.read(async () => (await this.pool.query<Row>(withAnswerTimeout({ text: sql, values }, answerTimeoutMs))).rows);
  }

  private async readStreamsFrom(fromRevisions: ReadonlyMap<string, number>): Promise<Map<string, StoredEvent[]>> {
    const byStream = new Map<string, StoredEvent[]>();
    const events = await selectEvents(
      this.pool,
      'true',
      'stream_name, revision',
      'ALL',
      [[...fromRevisions.keys()], [...fromRevisions.values()]],
      STREAMS_FROM_REVISIONS,
      this.options.answerTimeoutMs,
    );
    for (const event of events) {
      const stream = byStream.get(event.streamName);
      if (stream) stream.push(event);
      else byStream.set(event.streamName, [event]);
    }
    for (const [streamName, stream] of byStream) {
      const last = stream[stream.length - 1];
      this.knownHeads.afterRead(streamName, { revision: last.revision, hash: last.hash });
    }
    return byStream;
  }

  private async read<T>(reading: () => Promise<T>): Promise<T> {
    try {
      return await reading();
    } catch (error) {
      throw asUnavailable(error, 'the PostgreSQL event store could not be read');
    }
  }

  private assertOpen(): void {
    if (this.isClosed) throw new EventStoreUnavailable('the PostgreSQL event store is closed');
  }
}

/**
 * A page of `listStreamNames`: a walk of the `streams` primary key (`COLLATE "C"`, so the
 * parameters compare byte for byte too) from the greater lower bound to the upper one, which
 * reads only the names returned whatever the number of other streams. Removing a stream deletes
 * its row here; writing it again puts the row back.
 */
export const STREAM_NAMES_FROM = 'SELECT stream_name FROM streams WHERE stream_name >= $1 AND stream_name > $2 ORDER BY stream_name LIMIT $3';
export const STREAM_NAMES_BETWEEN =
  'SELECT stream_name FROM streams WHERE stream_name >= $1 AND stream_name > $2 AND stream_name < $4 ORDER BY stream_name LIMIT $3';

const SELECT_REMOVALS =
  'SELECT sequence, stream_name, last_revision, positions::text[] AS positions, last_hash, reason, removed_at, details, previous_hash, hash FROM stream_removals';

function toRemovalRecord(row: RemovalRow): RemovalRecord {
  return {
    sequence: row.sequence,
    streamName: row.stream_name,
    lastRevision: row.last_revision,
    positions: row.positions.map(BigInt),
    lastHash: row.last_hash,
    reason: row.reason,
    removedAt: row.removed_at,
    ...detailsOfColumn(row.details),
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}

/**
 * The name the store's connections carry in pg_stat_activity. Its LISTEN and lock connections had
 * none unless the process named the store, which the API does not: an operator counting the
 * README's connections found two without a name (found in review).
 */
const applicationNameOf = (options: PostgresEventStoreOptions): string => options.applicationName ?? 'consent-ledger-event-store';

import { Client, escapeLiteral, Pool, type PoolClient, types as pgTypes } from 'pg';
import type { Brand, Instant } from '@consent-ledger/domain';
import { checkOutClient, connectionWaitMs, type GlobalPosition, inTransaction, type StoredEvent, withAnswerTimeout, withSessionSetting } from '@consent-ledger/event-store';
import type { AudienceId, AudienceRow } from '../../audience-membership/audience-membership.projection';
import { type ChangeSet, isNewsForFeeds } from '../../change-set';
import type { SuppressionRow } from '../../channel-suppressions/channel-suppressions.projection';
import type { DecisionRow } from '../../current-decisions/current-decisions.projection';
import type { SubjectView } from '../../subject-ledger/subject-view';
import {
  type CatalogueFollowed,
  assertSameRules,
  catalogueFollowedOf,
  type CatalogueRules,
  eventIdAt,
  type FeedProgress,
  feedProgressOf,
  feedProgressQuery,
  type FeedProgressRecord,
  followAnotherLog,
  type LastApplied,
  markFeedsForRepublicationAgain,
  REMEMBER_WHAT_PARTNERS_HEARD,
  READ_MODELS_CHECKPOINT,
  audiencesColumnOf,
  audiencesOfColumn,
  DATABASE_CLOCK,
  type Planner,
  type OutboxRecord,
  type ReadModelStorage,
  type ReadModelTablesDump,
  type SweptUpTo,
  OUTBOX_CURSOR_PREFIX,
  outboxCursorOf,
  REPUBLICATION_PAGE_SIZE,
  republicationMarkerOf,
  type RepublicationStep,
  stateChangePageOf,
  type StateChangePage,
  type StoredLedger,
  type StoredLedgers,
  type StoredViews,
} from '../read-model-storage';
import {
  type AudienceRecord,
  audienceRecordOf,
  audienceRowOf,
  type DecisionRecord,
  decisionRecordOf,
  decisionRowOf,
  type LedgerRecord,
  storedLedgersOf,
  type SubjectRecord,
  subjectIdsOf,
  subjectRecordOf,
  type SuppressionRecord,
  suppressionRecordOf,
  suppressionRowOf,
  viewOf,
} from '../rows';
import { migratePostgresReadModels, REBUILD } from './postgres-migrations';

export interface PostgresReadModelStorageOptions {
  /** The read models own the `rm_` tables of the connection's current schema. */
  readonly url: string;
  readonly poolSize?: number;
  readonly applicationName?: string;
  /**
   * How long a writer's transaction may sit idle before PostgreSQL ends it (default 10 s, a lease
   * time). Every writer holds the checkpoint row's lock for its whole transaction: a process frozen
   * mid-batch (SIGSTOP, a paused VM) kept it, and the instance that took its role over could
   * apply nothing until it woke. A batch's own pauses between statements last milliseconds.
   */
  readonly idleInTransactionTimeoutMs?: number;
  /**
   * How long the reads of an audience decision (the subjects' ledgers, the checkpoint it waits
   * for), of /health (the checkpoint, the feeds' progress) and the leases (renewals, and who holds
   * one) wait for PostgreSQL's answer before their connection is closed and the question answered
   * 503 (see the event store's answer-timeout.ts); also bounds the wait for a connection. Unset: as
   * long as it takes. Writers (projections, rebuilds, the time sweep, republication) have none.
   */
  readonly answerTimeoutMs?: number;
}

const TIMESTAMPTZ = 1184;
const parseTimestamp = pgTypes.getTypeParser(TIMESTAMPTZ);
/** Instants come back in the domain's form (ISO-8601 UTC with milliseconds), so they compare as strings. */
const instantTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ ? (value: string) => (parseTimestamp(value) as Date).toISOString() : pgTypes.getTypeParser(oid, format)) as typeof pgTypes.getTypeParser,
};

const SUBJECT_COLUMNS = 'subject_id, brand, brands, ledger, last_position, last_occurred_at, evaluated_at, next_change_at, erased, expiries';
const AUDIENCE_COLUMNS = 'audience, subject_id, member, since, valid_until, changed_at_position';
const DECISION_COLUMNS =
  'subject_id, brand, purpose, allowed, reason, legal_basis, valid_until, based_on, channels, consented_channels, restricted_channels, opted_out_sources, changes_at';

/**
 * For the subjects of a republication page (ids after $1, up to $2), a row saying they left each
 * audience a partner heard of them in before the rebuild and that the rebuild gave no row: never
 * a member under the rules now in force (see REMEMBER_WHAT_PARTNERS_HEARD). It goes out with the
 * page, and a later erasure sends its tombstone. `since` is the instant the rebuild last evaluated the subject at.
 */
const TELL_PARTNERS_WHO_LEFT = `
  WITH heard AS (
    DELETE FROM rm_audience_heard h USING rm_subjects s
    WHERE s.subject_id = h.subject_id AND NOT s.erased AND ($1::text IS NULL OR s.subject_id > $1) AND s.subject_id <= $2
    RETURNING h.audience, h.subject_id, s.evaluated_at, s.last_position
  )
  INSERT INTO rm_audience_members (audience, subject_id, member, since, valid_until, changed_at_position)
  SELECT audience, subject_id, false, evaluated_at, NULL, last_position FROM heard
  ON CONFLICT (audience, subject_id) DO NOTHING`;

/**
 * Production read models in PostgreSQL. Every writer (the projection runner, the time sweep, a
 * second projector instance) first locks the read-models checkpoint row, so their transactions
 * run one after the other and each sees what the previous one committed.
 */
export class PostgresReadModelStorage implements ReadModelStorage {
  readonly kind = 'postgres' as const;
  private readonly pool: Pool;
  private notifyChannel = '';
  /** The rules this process decides under, once it followed the catalogue: writers check the tables' are the same. */
  private followedRules?: CatalogueRules;

  private constructor(private readonly options: PostgresReadModelStorageOptions) {
    this.pool = new Pool({
      connectionString: withSessionSetting(options.url, 'idle_in_transaction_session_timeout', String(options.idleInTransactionTimeoutMs ?? 10_000)),
      max: options.poolSize ?? 4,
      application_name: options.applicationName ?? 'consent-ledger-read-models',
      types: instantTypes,
      ...(options.answerTimeoutMs !== undefined && { connectionTimeoutMillis: connectionWaitMs(options.answerTimeoutMs) }),
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  static async open(options: PostgresReadModelStorageOptions): Promise<PostgresReadModelStorage> {
    const storage = new PostgresReadModelStorage(options);
    try {
      const client = await checkOutClient(storage.pool);
      try {
        await migratePostgresReadModels(client);
        const { rows } = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
        storage.notifyChannel = `rm_checkpoint:${rows[0].schema}`.slice(0, 63);
      } finally {
        client.release();
      }
      return storage;
    } catch (error) {
      await storage.pool.end().catch(() => undefined);
      throw error;
    }
  }

  async applyEvents(events: readonly StoredEvent[], plan: Planner): Promise<ChangeSet> {
    // The views of every event's subject, read with the lock in one message: events the
    // checkpoint already passed leave their subjects' views unchanged, and the plan drops those.
    return this.underCheckpointLock(
      async (client, checkpoint, views) => {
        const changes = plan(checkpoint, views);
        await this.write(client, changes);
        return changes.checkpoint > checkpoint
          ? { result: changes, movedTo: changes.checkpoint, movedToEventId: eventIdAt(events, changes.checkpoint) }
          : { result: changes };
      },
      subjectIdsOf(events),
      { decides: true },
    );
  }

  async reevaluateDue(at: Instant | typeof DATABASE_CLOCK, limit: number, plan: (checkpoint: GlobalPosition, views: readonly SubjectView[], now: Instant) => ChangeSet): Promise<ChangeSet> {
    return this.underCheckpointLock(async (client, checkpoint) => {
      // The outbox before any row, as a republication's page takes them (aloneInTheOutbox): the
      // sweep wrote its subjects' rows and then waited for the outbox, while a page held the outbox
      // and waited for those rows, and PostgreSQL ended one as a deadlock (found in review).
      await client.query('LOCK TABLE rm_state_changes IN ROW EXCLUSIVE MODE');
      // The clock is read in the same round trip as the subjects it finds due.
      const { rows } = await client.query<{ now: Instant; subject_id: string | null }>(
        `SELECT clock.now, due.subject_id
         FROM (SELECT coalesce($1::timestamptz, statement_timestamp()) AS now) AS clock
         LEFT JOIN LATERAL (SELECT subject_id, next_change_at FROM rm_subjects WHERE next_change_at <= clock.now ORDER BY next_change_at LIMIT $2) AS due ON true
         ORDER BY due.next_change_at`,
        [at === DATABASE_CLOCK ? null : at, limit],
      );
      const now = at === DATABASE_CLOCK ? rows[0].now : at;
      const dueIds = rows.flatMap((row) => (row.subject_id === null ? [] : [row.subject_id]));
      const changes = plan(checkpoint, [...(await this.loadViews(client, dueIds)).values()], now);
      await this.write(client, changes);
      const news = changes.subjects.filter(isNewsForFeeds);
      if (news.length > 0) {
        await client.query('INSERT INTO rm_state_changes (subject_id, audiences, changed_at) SELECT *, $3 FROM unnest($1::text[], $2::text[])', [
          news.map((change) => change.view.subjectId),
          news.map(audiencesColumnOf),
          now,
        ]);
      }
      return { result: changes };
    }, [], { decides: true });
  }

  async reset(): Promise<void> {
    await this.underCheckpointLock(async (client) => {
      await client.query(`${REMEMBER_WHAT_PARTNERS_HEARD} TRUNCATE rm_subjects, rm_decisions, rm_suppressions, rm_audience_members`);
      await client.query('UPDATE rm_checkpoints SET position = 0 WHERE name = $1', [READ_MODELS_CHECKPOINT]);
      return { result: undefined };
    });
  }

  async lastApplied(): Promise<LastApplied> {
    const { rows } = await this.pool.query<{ position: string; event_id: string | null }>('SELECT position, event_id FROM rm_checkpoints WHERE name = $1', [
      READ_MODELS_CHECKPOINT,
    ]);
    const position = BigInt(rows[0]?.position ?? 0);
    return position > 0n && rows[0]?.event_id ? { position, eventId: rows[0].event_id } : { position };
  }

  async rebuildForAnotherLog(head: GlobalPosition): Promise<void> {
    await this.underCheckpointLock(async (client) => {
      await client.query(`${followAnotherLog(head, 'LEAST')} ${REMEMBER_WHAT_PARTNERS_HEARD} ${REBUILD}`);
      return { result: undefined };
    });
  }

  async recordedRules(): Promise<CatalogueRules | undefined> {
    return (await this.pool.query<CatalogueRules>('SELECT version, digest FROM rm_catalogue')).rows[0];
  }

  async followCatalogue(rules: CatalogueRules): Promise<CatalogueFollowed> {
    this.followedRules = rules;
    return this.underCheckpointLock(async (client) => {
      const { rows } = await client.query<CatalogueRules>('SELECT version, digest FROM rm_catalogue');
      const { followed, isRecordDue } = catalogueFollowedOf(rows[0], rules);
      if (followed.outcome === 'rebuilt') await client.query(`${markFeedsForRepublicationAgain('GREATEST')} ${REMEMBER_WHAT_PARTNERS_HEARD} ${REBUILD}`);
      if (isRecordDue) {
        await client.query(
          `INSERT INTO rm_catalogue (only_row, version, digest, recorded_at) VALUES (true, $1, $2, now())
           ON CONFLICT (only_row) DO UPDATE SET version = excluded.version, digest = excluded.digest, recorded_at = excluded.recorded_at`,
          [rules.version, rules.digest],
        );
      }
      return { result: followed };
    });
  }

  async checkpoint(name = READ_MODELS_CHECKPOINT): Promise<GlobalPosition> {
    const { rows } = await this.pool.query<{ position: string }>(
      withAnswerTimeout({ text: 'SELECT position FROM rm_checkpoints WHERE name = $1', values: [name] }, this.options.answerTimeoutMs),
    );
    return BigInt(rows[0]?.position ?? 0);
  }

  async saveCheckpoint(name: string, position: GlobalPosition, fence?: { role: string; holder: string }): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO rm_checkpoints (name, position)
       SELECT $1, $2 WHERE $3::text IS NULL OR EXISTS (SELECT 1 FROM rm_leases WHERE role = $3 AND holder = $4 AND expires_at >= now())
       ON CONFLICT (name) DO UPDATE SET position = excluded.position`,
      [name, position.toString(), fence?.role ?? null, fence?.holder ?? null],
    );
    return rowCount === 1;
  }

  async views(subjectIds: readonly string[]): Promise<Map<string, SubjectView>> {
    return this.loadViews(this.pool, subjectIds);
  }

  async viewsAsApplied(subjectIds: readonly string[]): Promise<StoredViews> {
    // One snapshot for the checkpoint and the rows: a rebuild's emptying and every batch it applies
    // commit with the checkpoint they leave. (TRUNCATE is not MVCC-safe: a table first read after a
    // rebuild emptied it reads empty, so a view is missing, never older than the checkpoint says.)
    return inTransaction(this.pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async (client) => {
      const { rows } = await client.query<{ position: string }>('SELECT position FROM rm_checkpoints WHERE name = $1', [READ_MODELS_CHECKPOINT]);
      return { appliedUpTo: BigInt(rows[0]?.position ?? 0), views: await this.loadViews(client, subjectIds) };
    });
  }

  async ledgers(subjectIds: readonly string[]): Promise<StoredLedgers> {
    // One statement, one snapshot: the rows and the checkpoint they were applied up to.
    const { rows } = await this.pool.query<LedgerRecord & { applied_up_to: string | null }>(
      withAnswerTimeout(
        {
          text: `SELECT checkpoint.position AS applied_up_to, subject.subject_id, subject.ledger, subject.last_occurred_at
       FROM (SELECT COALESCE((SELECT position FROM rm_checkpoints WHERE name = $2), 0) AS position) checkpoint
       LEFT JOIN rm_subjects subject ON subject.subject_id = ANY($1::text[])`,
          values: [subjectIds, READ_MODELS_CHECKPOINT],
        },
        this.options.answerTimeoutMs,
      ),
    );
    return { ledgers: storedLedgersOf(rows.filter((row) => row.subject_id !== null)), appliedUpTo: BigInt(rows[0]?.applied_up_to ?? 0) };
  }

  async decisionRows(subjectId: string, brand?: Brand): Promise<DecisionRow[]> {
    const { rows } = await this.pool.query<DecisionRecord & { based_on: unknown }>(
      `SELECT ${DECISION_COLUMNS} FROM rm_decisions WHERE subject_id = $1 AND ($2::text IS NULL OR brand = $2) ORDER BY brand, purpose`,
      [subjectId, brand ?? null],
    );
    return rows.map((row) => decisionRowOf({ ...row, based_on: JSON.stringify(row.based_on) }));
  }

  async suppressionRows(filter: { channel?: string; subjectId?: string } = {}): Promise<SuppressionRow[]> {
    const { rows } = await this.pool.query<SuppressionRecord>(
      `SELECT * FROM rm_suppressions WHERE ($1::text IS NULL OR channel = $1) AND ($2::text IS NULL OR subject_id = $2)
       ORDER BY channel, subject_id, scope, reason`,
      [filter.channel ?? null, filter.subjectId ?? null],
    );
    return rows.map(suppressionRowOf);
  }

  async audienceRows(audience: AudienceId, subjectIds?: readonly string[]): Promise<AudienceRow[]> {
    const { rows } = await this.pool.query<AudienceRecord>(
      `SELECT ${AUDIENCE_COLUMNS} FROM rm_audience_members WHERE audience = $1 AND ($2::text[] IS NULL OR subject_id = ANY($2))
       ORDER BY subject_id`,
      [audience, subjectIds ?? null],
    );
    return rows.map(audienceRowOf);
  }

  async followStateChanges(feed: string): Promise<void> {
    await this.pool.query('INSERT INTO rm_checkpoints (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING', [outboxCursorOf(feed)]);
  }

  async pendingStateChanges(feed: string, limit: number): Promise<StateChangePage> {
    // Inserts into the outbox are serialised (the sweep's by the checkpoint lock, a republication
    // page's by a lock on the table, see aloneInTheOutbox), so sequences commit in order and a
    // cursor never passes one still to come.
    const { rows } = await this.pool.query<OutboxRecord>(
      `SELECT sequence, subject_id, changed_at, audiences, feed FROM rm_state_changes
       WHERE sequence > COALESCE((SELECT position FROM rm_checkpoints WHERE name = $1), 0)
       ORDER BY sequence LIMIT $2`,
      [outboxCursorOf(feed), limit],
    );
    return stateChangePageOf(rows, feed, limit);
  }

  async stateChangesPublished(feed: string, upToSequence: number, fence?: { role: string; holder: string }): Promise<boolean> {
    if (!(await this.saveCheckpoint(outboxCursorOf(feed), BigInt(upToSequence), fence))) return false;
    await this.pool.query(
      `DELETE FROM rm_state_changes WHERE sequence <= (SELECT min(position) FROM rm_checkpoints WHERE name LIKE '${OUTBOX_CURSOR_PREFIX}%')`,
    );
    return true;
  }

  async enqueueRepublicationPage(feed: string, caughtUpTo: GlobalPosition, sweptUpTo: SweptUpTo, pageSize = REPUBLICATION_PAGE_SIZE): Promise<RepublicationStep> {
    const marker = republicationMarkerOf(feed);
    const [instant, msBeforeClock] = typeof sweptUpTo === 'string' ? [sweptUpTo, null] : [null, sweptUpTo.msBeforeDatabaseClock];
    return this.aloneInTheOutbox(async (client) => {
      const { rows: markers } = await client.query<{ position: string; queued_up_to: string | null; is_sweep_behind: boolean }>(
        `SELECT position, queued_up_to, EXISTS (
           SELECT 1 FROM rm_subjects WHERE next_change_at < coalesce($2::timestamptz, statement_timestamp() - $3 * interval '1 millisecond')
         ) AS is_sweep_behind
         FROM rm_checkpoints WHERE name = $1`,
        [marker, instant, msBeforeClock],
      );
      const owed = markers[0];
      if (!owed) return { kind: 'nothing-owed' };
      if (BigInt(owed.position) > caughtUpTo || owed.is_sweep_behind) return { kind: 'waiting' };
      // The last id by the same collation the keyset compares with (max, not the last row returned).
      const { rows } = await client.query<{ queued: number; last: string | null }>(
        `WITH page AS (
           INSERT INTO rm_state_changes (subject_id, changed_at, feed)
           SELECT subject_id, evaluated_at, $1 FROM rm_subjects WHERE NOT erased AND ($2::text IS NULL OR subject_id > $2)
           ORDER BY subject_id LIMIT $3
           RETURNING subject_id
         )
         SELECT count(*)::int AS queued, max(subject_id) AS last FROM page`,
        [feed, owed.queued_up_to, pageSize],
      );
      const { queued, last } = rows[0];
      if (last !== null) await client.query(TELL_PARTNERS_WHO_LEFT, [owed.queued_up_to, last]);
      const isLast = queued < pageSize;
      if (isLast) await client.query('DELETE FROM rm_checkpoints WHERE name = $1', [marker]);
      else await client.query('UPDATE rm_checkpoints SET queued_up_to = $2 WHERE name = $1', [marker, last]);
      return { kind: 'queued', queued, isLast };
    });
  }

  async tryLease(role: string, holder: string, ttlMs: number): Promise<boolean> {
    // The database's clock decides expiry, so instances with drifting clocks still agree. A renewal
    // sent into a network cut is given up with the answer timeout, its connection closed (see
    // withAnswerTimeout), not left stuck for the next renewals to queue behind (the leader stops
    // waiting for it after the lease's length: leadRole).
    const { rowCount } = await this.pool.query(
      withAnswerTimeout(
        {
          text: `INSERT INTO rm_leases (role, holder, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
                 ON CONFLICT (role) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE rm_leases.holder = excluded.holder OR rm_leases.expires_at < now()`,
          values: [role, holder, ttlMs],
        },
        this.options.answerTimeoutMs,
      ),
    );
    return rowCount === 1;
  }

  async releaseLease(role: string, holder: string): Promise<void> {
    await this.pool.query('DELETE FROM rm_leases WHERE role = $1 AND holder = $2', [role, holder]);
  }

  async leaseHolder(role: string): Promise<string | undefined> {
    // Asked by every instance's heartbeat: see answerTimeoutMs.
    const { rows } = await this.pool.query<{ holder: string }>(
      withAnswerTimeout({ text: 'SELECT holder FROM rm_leases WHERE role = $1 AND expires_at >= now()', values: [role] }, this.options.answerTimeoutMs),
    );
    return rows[0]?.holder;
  }

  async feedProgress(): Promise<FeedProgress[]> {
    // Asked by /health every few seconds: see answerTimeoutMs.
    return feedProgressOf((await this.pool.query<FeedProgressRecord>(withAnswerTimeout({ text: feedProgressQuery('now()') }, this.options.answerTimeoutMs))).rows);
  }

  async watchCheckpoint(listener: (position: GlobalPosition) => void, lost?: () => void): Promise<() => Promise<void>> {
    const client = new Client({ connectionString: this.options.url, application_name: `${this.options.applicationName ?? 'consent-ledger-read-models'}-listen` });
    let stopped = false;
    const gone = () => {
      if (stopped) return;
      stopped = true;
      client.end().catch(() => undefined);
      lost?.();
    };
    client.on('error', gone);
    client.on('notification', (message) => {
      if (message.channel === this.notifyChannel && message.payload) listener(BigInt(message.payload));
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.notifyChannel.replace(/"/g, '""')}"`);
    } catch (error) {
      stopped = true;
      await client.end().catch(() => undefined);
      throw error;
    }
    client.on('end', gone);
    return async () => {
      stopped = true;
      await client.end().catch(() => undefined);
    };
  }

  async dump(): Promise<ReadModelTablesDump> {
    const all = async (sql: string) => (await this.pool.query(sql)).rows as Record<string, unknown>[];
    return {
      checkpoint: (await this.checkpoint()).toString(),
      subjects: await all(`SELECT ${SUBJECT_COLUMNS} FROM rm_subjects ORDER BY subject_id`),
      decisions: await all(`SELECT ${DECISION_COLUMNS} FROM rm_decisions ORDER BY subject_id, brand, purpose`),
      suppressions: await all('SELECT * FROM rm_suppressions ORDER BY channel, subject_id, scope, reason'),
      audiences: await all(`SELECT ${AUDIENCE_COLUMNS} FROM rm_audience_members ORDER BY audience, subject_id`),
    };
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }

  /**
   * One transaction holding the read-models checkpoint row: `work` gets the checkpoint and the
   * views of `viewsToRead`, and says where it moved the checkpoint. Opening (BEGIN, the lock and
   * the views) and closing (the new checkpoint, its NOTIFY and COMMIT) each go as one message:
   * every round trip to the server costs the projector a socket write, and at a few events per
   * batch those writes were most of its work.
   */
  private async underCheckpointLock<T>(
    work: (
      client: PoolClient,
      checkpoint: GlobalPosition,
      views: ReadonlyMap<string, SubjectView>,
    ) => Promise<{ readonly result: T; readonly movedTo?: GlobalPosition; readonly movedToEventId?: string | null }>,
    viewsToRead: readonly string[] = [],
    { decides = false } = {},
  ): Promise<T> {
    const client = await checkOutClient(this.pool);
    try {
      // The views go in the opening message too, read once the lock is held (a simple-query
      // message has no parameters, hence the ids as one JSON literal); so do the rules.
      const readViews =
        viewsToRead.length === 0 ? [] : viewQueries(`ARRAY(SELECT json_array_elements_text(${escapeLiteral(JSON.stringify(viewsToRead))}::json))`);
      const checksRules = decides && this.followedRules !== undefined;
      const opened = (await client.query(
        [
          `BEGIN; SELECT position FROM rm_checkpoints WHERE name = ${escapeLiteral(READ_MODELS_CHECKPOINT)} FOR UPDATE`,
          ...readViews,
          ...(checksRules ? ['SELECT version, digest FROM rm_catalogue'] : []),
        ].join('; '),
      )) as unknown as [unknown, { rows: Array<{ position: string }> }, ...Array<{ rows: unknown[] }>];
      if (checksRules) assertSameRules(this.followedRules!, ((opened[opened.length - 1] as { rows: CatalogueRules[] }).rows)[0]);
      const views = viewsToRead.length === 0 ? new Map<string, SubjectView>() : viewsOf(opened[2].rows as SubjectRecord[], opened[3].rows as AudienceRecord[]);
      const { result, movedTo, movedToEventId = null } = await work(client, BigInt(opened[1].rows[0].position), views);
      await client.query(
        movedTo === undefined
          ? 'COMMIT'
          : `UPDATE rm_checkpoints SET position = ${movedTo.toString()}, event_id = ${movedToEventId === null ? 'NULL' : escapeLiteral(movedToEventId)} WHERE name = ${escapeLiteral(READ_MODELS_CHECKPOINT)};
             SELECT pg_notify(${escapeLiteral(this.notifyChannel)}, ${escapeLiteral(movedTo.toString())}); COMMIT`,
      );
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * A transaction that inserts into the outbox while no other insert is under way, without the
   * checkpoint lock, so the projection need not wait for it. Outbox sequences must commit in the
   * order they are drawn, or a feed's cursor could pass a row still to come: this lock waits for
   * and keeps out every other insert (the sweep's), and lets feeds read. See docs/read-models.md.
   */
  private aloneInTheOutbox<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, 'BEGIN; LOCK TABLE rm_state_changes IN SHARE ROW EXCLUSIVE MODE', work);
  }

  private async loadViews(client: Pool | PoolClient, subjectIds: readonly string[]): Promise<Map<string, SubjectView>> {
    if (subjectIds.length === 0) return new Map();
    const [subjectsQuery, audiencesQuery] = viewQueries('$1::text[]');
    const [subjects, audiences] = await Promise.all([
      client.query<SubjectRecord>(subjectsQuery, [subjectIds]),
      client.query<AudienceRecord>(audiencesQuery, [subjectIds]),
    ]);
    return viewsOf(subjects.rows, audiences.rows);
  }

  private async write(client: PoolClient, changes: ChangeSet): Promise<void> {
    if (changes.subjects.length === 0) return;
    const subjects = changes.subjects.map(subjectRecordOf);
    const decisions = changes.subjects.flatMap((change) => change.decisions.map(decisionRecordOf));
    const added = changes.subjects.flatMap((change) => change.suppressionsAdded.map(suppressionRecordOf));
    const removed = changes.subjects.flatMap((change) => change.suppressionsRemoved.map(suppressionRecordOf));
    const audiences = changes.subjects.flatMap((change) => change.audiences.map(audienceRecordOf));

    // One statement for the whole batch (json_to_recordset turns each table's rows into a relation):
    // statements, not rows, are what a small batch pays for.
    await client.query(
      `WITH subjects AS (
         INSERT INTO rm_subjects (${SUBJECT_COLUMNS})
         SELECT ${SUBJECT_COLUMNS} FROM json_to_recordset($1::json) AS x(subject_id text, brand text, brands text[], ledger text, last_position bigint,
           last_occurred_at timestamptz, evaluated_at timestamptz, next_change_at timestamptz, erased boolean, expiries text)
         ON CONFLICT (subject_id) DO UPDATE SET brand = excluded.brand, brands = excluded.brands, ledger = excluded.ledger, last_position = excluded.last_position,
           last_occurred_at = excluded.last_occurred_at, evaluated_at = excluded.evaluated_at, next_change_at = excluded.next_change_at,
           erased = excluded.erased, expiries = excluded.expiries
       ), decisions AS (
         INSERT INTO rm_decisions (${DECISION_COLUMNS})
         SELECT subject_id, brand, purpose, allowed, reason, legal_basis, valid_until, based_on::jsonb, channels, consented_channels,
           restricted_channels, opted_out_sources, changes_at
         FROM json_to_recordset($2::json) AS x(subject_id text, brand text, purpose text, allowed boolean, reason text, legal_basis text,
           valid_until timestamptz, based_on text, channels text[], consented_channels text[], restricted_channels text[],
           opted_out_sources text[], changes_at timestamptz)
         ON CONFLICT (subject_id, brand, purpose) DO UPDATE SET allowed = excluded.allowed, reason = excluded.reason,
           legal_basis = excluded.legal_basis, valid_until = excluded.valid_until, based_on = excluded.based_on,
           channels = excluded.channels, consented_channels = excluded.consented_channels, restricted_channels = excluded.restricted_channels,
           opted_out_sources = excluded.opted_out_sources, changes_at = excluded.changes_at
       ), audiences AS (
         INSERT INTO rm_audience_members (${AUDIENCE_COLUMNS})
         SELECT ${AUDIENCE_COLUMNS} FROM json_to_recordset($3::json) AS x(audience text, subject_id text, member boolean,
           since timestamptz, valid_until timestamptz, changed_at_position bigint)
         ON CONFLICT (audience, subject_id) DO UPDATE SET member = excluded.member, since = excluded.since,
           valid_until = excluded.valid_until, changed_at_position = excluded.changed_at_position
       )
       SELECT 1`,
      [JSON.stringify(subjects), JSON.stringify(decisions), JSON.stringify(audiences)],
    );
    // Suppressions change rarely and are deleted and inserted in the same table: statements of their own.
    if (removed.length > 0) {
      await client.query(
        `DELETE FROM rm_suppressions s USING json_to_recordset($1::json) AS x(channel text, subject_id text, scope text, reason text)
         WHERE s.channel = x.channel AND s.subject_id = x.subject_id AND s.scope = x.scope AND s.reason = x.reason`,
        [JSON.stringify(removed)],
      );
    }
    if (added.length > 0) {
      await client.query(
        `INSERT INTO rm_suppressions (channel, subject_id, scope, reason, since)
         SELECT channel, subject_id, scope, reason, since
         FROM json_to_recordset($1::json) AS x(channel text, subject_id text, scope text, reason text, since timestamptz)
         ON CONFLICT (channel, subject_id, scope, reason) DO UPDATE SET since = excluded.since`,
        [JSON.stringify(added)],
      );
    }
  }
}

/**
 * The two queries that read subjects' views (subject rows, audience rows), given their ids as an
 * SQL text[] expression. The audience rows come with a row `member: false` for each audience a
 * partner heard of the subject in before a rebuild that gave it none, until the republication
 * writes that row (see REMEMBER_WHAT_PARTNERS_HEARD): a subject erased before then gets its
 * tombstone there, as the feed sends one for every audience the erased subject has a row in.
 */
function viewQueries(ids: string): [string, string] {
  return [
    `SELECT ${SUBJECT_COLUMNS} FROM rm_subjects WHERE subject_id = ANY(${ids})`,
    `SELECT ${AUDIENCE_COLUMNS} FROM rm_audience_members WHERE subject_id = ANY(${ids})
     UNION ALL
     SELECT h.audience, h.subject_id, false, s.evaluated_at, NULL::timestamptz, s.last_position
     FROM rm_audience_heard h JOIN rm_subjects s ON s.subject_id = h.subject_id
     WHERE h.subject_id = ANY(${ids}) AND NOT EXISTS (SELECT 1 FROM rm_audience_members m WHERE m.audience = h.audience AND m.subject_id = h.subject_id)`,
  ];
}

function viewsOf(subjects: readonly SubjectRecord[], audiences: readonly AudienceRecord[]): Map<string, SubjectView> {
  const bySubject = new Map<string, AudienceRecord[]>();
  for (const row of audiences) bySubject.set(row.subject_id, [...(bySubject.get(row.subject_id) ?? []), row]);
  return new Map(subjects.map((row) => [row.subject_id, viewOf(row, bySubject.get(row.subject_id) ?? [])]));
}

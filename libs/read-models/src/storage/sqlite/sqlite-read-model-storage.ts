import Database, { type Database as Connection } from 'better-sqlite3';
import type { Brand, Instant } from '@consent-ledger/domain';
import { type GlobalPosition, type StoredEvent, useWriteAheadLog } from '@consent-ledger/event-store';
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
import { migrateSqliteReadModels, REBUILD } from './sqlite-migrations';

export interface SqliteReadModelStorageOptions {
  /** `${DATA_DIR}/state.sqlite` in the embedded mode. */
  readonly file: string;
}

type SqliteSubject = Omit<SubjectRecord, 'erased' | 'last_position' | 'brands'> & { erased: number; last_position: number; brands: string };
type SqliteAudience = Omit<AudienceRecord, 'member' | 'changed_at_position'> & { member: number; changed_at_position: number };
type SqliteDecision = Omit<DecisionRecord, 'allowed' | 'channels' | 'consented_channels' | 'restricted_channels' | 'opted_out_sources'> & {
  allowed: number;
  channels: string | null;
  consented_channels: string;
  restricted_channels: string;
  opted_out_sources: string;
};

const SUBJECT_COLUMNS = 'subject_id, brand, brands, ledger, last_position, last_occurred_at, evaluated_at, next_change_at, erased, expiries';
const AUDIENCE_COLUMNS = 'audience, subject_id, member, since, valid_until, changed_at_position';
const DECISION_COLUMNS =
  'subject_id, brand, purpose, allowed, reason, legal_basis, valid_until, based_on, channels, consented_channels, restricted_channels, opted_out_sources, changes_at';

/**
 * The embedded read models: one SQLite file in WAL mode. better-sqlite3 is synchronous, so a
 * whole transaction (load, plan, write, checkpoint) runs without yielding: nothing can interleave,
 * and BEGIN IMMEDIATE keeps a second process out until it commits.
 */
export class SqliteReadModelStorage implements ReadModelStorage {
  readonly kind = 'sqlite' as const;
  private readonly db: Connection;
  private readonly statements: ReturnType<typeof prepare>;
  /** The rules this process decides under, once it followed the catalogue. */
  private followedRules?: CatalogueRules;

  constructor(options: SqliteReadModelStorageOptions) {
    // Named, as the log's own file is: "file is not a database" alone did not say which (found in review).
    try {
      this.db = new Database(options.file, { timeout: 5000 });
      useWriteAheadLog(this.db);
      // A lost last commit after a power cut is replayed from the log: the checkpoint rolls back with it.
      this.db.pragma('synchronous = NORMAL');
      migrateSqliteReadModels(this.db);
    } catch (error) {
      throw new Error(`cannot open the read models at ${options.file}: ${(error as Error).message} (they can be rebuilt from the log: move the file aside)`, { cause: error });
    }
    this.statements = prepare(this.db);
  }

  async applyEvents(events: readonly StoredEvent[], plan: Planner): Promise<ChangeSet> {
    return this.db
      .transaction(() => {
        this.assertFollowedRules();
        const checkpoint = this.readCheckpoint(READ_MODELS_CHECKPOINT);
        const fresh = events.filter((event) => event.position > checkpoint);
        const changes = plan(checkpoint, this.loadViews(subjectIdsOf(fresh)));
        this.write(changes);
        if (changes.checkpoint > checkpoint) this.statements.setReadModelsCheckpoint.run(changes.checkpoint, eventIdAt(events, changes.checkpoint));
        return changes;
      })
      .immediate();
  }

  async reevaluateDue(at: Instant | typeof DATABASE_CLOCK, limit: number, plan: (checkpoint: GlobalPosition, views: readonly SubjectView[], now: Instant) => ChangeSet): Promise<ChangeSet> {
    return this.db
      .transaction(() => {
        this.assertFollowedRules();
        const checkpoint = this.readCheckpoint(READ_MODELS_CHECKPOINT);
        const now = at === DATABASE_CLOCK ? ((this.statements.databaseNow.get() as { now: string }).now as Instant) : at;
        const ids = (this.statements.dueSubjects.all(now, limit) as { subject_id: string }[]).map((row) => row.subject_id);
        const changes = plan(checkpoint, [...this.loadViews(ids).values()], now);
        this.write(changes);
        for (const change of changes.subjects) {
          if (isNewsForFeeds(change)) this.statements.insertStateChange.run(change.view.subjectId, audiencesColumnOf(change), now);
        }
        return changes;
      })
      .immediate();
  }

  async reset(): Promise<void> {
    this.db
      .transaction(() => {
        this.db.exec(REMEMBER_WHAT_PARTNERS_HEARD);
        for (const table of ['rm_subjects', 'rm_decisions', 'rm_suppressions', 'rm_audience_members']) this.db.exec(`DELETE FROM ${table}`);
        this.statements.setCheckpoint.run(READ_MODELS_CHECKPOINT, 0);
      })
      .immediate();
  }

  async lastApplied(): Promise<LastApplied> {
    const row = this.statements.lastApplied.get(READ_MODELS_CHECKPOINT) as { position: number; event_id: string | null } | undefined;
    const position = BigInt(row?.position ?? 0);
    return position > 0n && row?.event_id ? { position, eventId: row.event_id } : { position };
  }

  async rebuildForAnotherLog(head: GlobalPosition): Promise<void> {
    this.db.transaction(() => this.db.exec(`${followAnotherLog(head, 'min')} ${REMEMBER_WHAT_PARTNERS_HEARD} ${REBUILD}`)).immediate();
  }

  async recordedRules(): Promise<CatalogueRules | undefined> {
    return this.statements.catalogueRules.get() as CatalogueRules | undefined;
  }

  async followCatalogue(rules: CatalogueRules): Promise<CatalogueFollowed> {
    this.followedRules = rules;
    return this.db
      .transaction((): CatalogueFollowed => {
        const { followed, isRecordDue } = catalogueFollowedOf(this.statements.catalogueRules.get() as CatalogueRules | undefined, rules);
        if (followed.outcome === 'rebuilt') this.db.exec(`${markFeedsForRepublicationAgain('max')} ${REMEMBER_WHAT_PARTNERS_HEARD} ${REBUILD}`);
        if (isRecordDue) this.statements.recordCatalogueRules.run(rules.version, rules.digest, new Date().toISOString());
        return followed;
      })
      .immediate();
  }

  /** A writer decides rows under the rules this process followed only while the tables follow them too. */
  private assertFollowedRules(): void {
    if (this.followedRules) assertSameRules(this.followedRules, this.statements.catalogueRules.get() as CatalogueRules | undefined);
  }

  async checkpoint(name = READ_MODELS_CHECKPOINT): Promise<GlobalPosition> {
    return this.readCheckpoint(name);
  }

  async saveCheckpoint(name: string, position: GlobalPosition, fence?: { role: string; holder: string }): Promise<boolean> {
    return this.db
      .transaction(() => {
        if (fence && !this.statements.holdsLease.get(fence.role, fence.holder, Date.now())) return false;
        this.statements.setCheckpoint.run(name, position);
        return true;
      })
      .immediate();
  }

  async views(subjectIds: readonly string[]): Promise<Map<string, SubjectView>> {
    return this.loadViews(subjectIds);
  }

  async viewsAsApplied(subjectIds: readonly string[]): Promise<StoredViews> {
    // One read transaction: the rows and the checkpoint they were applied up to, from one snapshot.
    return this.db.transaction(() => ({ appliedUpTo: this.readCheckpoint(READ_MODELS_CHECKPOINT), views: this.loadViews(subjectIds) }))();
  }

  async ledgers(subjectIds: readonly string[]): Promise<StoredLedgers> {
    // One read transaction: the rows and the checkpoint they were applied up to, from one snapshot.
    return this.db.transaction(() => ({
      appliedUpTo: this.readCheckpoint(READ_MODELS_CHECKPOINT),
      ledgers: subjectIds.length === 0 ? new Map() : storedLedgersOf(this.statements.ledgersIn.all(JSON.stringify(subjectIds)) as LedgerRecord[]),
    }))();
  }

  async decisionRows(subjectId: string, brand?: Brand): Promise<DecisionRow[]> {
    return (this.statements.decisionsOf.all({ subject: subjectId, brand: brand ?? null }) as SqliteDecision[]).map((row) => decisionRowOf(fromSqliteDecision(row)));
  }

  async suppressionRows(filter: { channel?: string; subjectId?: string } = {}): Promise<SuppressionRow[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM rm_suppressions WHERE (@channel IS NULL OR channel = @channel) AND (@subject IS NULL OR subject_id = @subject)
         ORDER BY channel, subject_id, scope, reason`,
      )
      .all({ channel: filter.channel ?? null, subject: filter.subjectId ?? null }) as SuppressionRecord[];
    return rows.map(suppressionRowOf);
  }

  async audienceRows(audience: AudienceId, subjectIds?: readonly string[]): Promise<AudienceRow[]> {
    const rows = (
      subjectIds
        ? this.db
            .prepare(`SELECT ${AUDIENCE_COLUMNS} FROM rm_audience_members WHERE audience = ? AND subject_id IN (SELECT value FROM json_each(?)) ORDER BY subject_id`)
            .all(audience, JSON.stringify(subjectIds))
        : this.db.prepare(`SELECT ${AUDIENCE_COLUMNS} FROM rm_audience_members WHERE audience = ? ORDER BY subject_id`).all(audience)
    ) as SqliteAudience[];
    return rows.map((row) => audienceRowOf(fromSqliteAudience(row)));
  }

  async followStateChanges(feed: string): Promise<void> {
    this.statements.followStateChanges.run(outboxCursorOf(feed));
  }

  async pendingStateChanges(feed: string, limit: number): Promise<StateChangePage> {
    return stateChangePageOf(this.statements.pendingStateChanges.all(outboxCursorOf(feed), limit) as OutboxRecord[], feed, limit);
  }

  async stateChangesPublished(feed: string, upToSequence: number, fence?: { role: string; holder: string }): Promise<boolean> {
    if (!(await this.saveCheckpoint(outboxCursorOf(feed), BigInt(upToSequence), fence))) return false;
    this.statements.forgetPublishedStateChanges.run();
    return true;
  }

  async enqueueRepublicationPage(feed: string, caughtUpTo: GlobalPosition, sweptUpTo: SweptUpTo, pageSize = REPUBLICATION_PAGE_SIZE): Promise<RepublicationStep> {
    const s = this.statements;
    const marker = republicationMarkerOf(feed);
    const bySweep = typeof sweptUpTo === 'string' ? { sweptUpTo, msBeforeClock: null } : { sweptUpTo: null, msBeforeClock: sweptUpTo.msBeforeDatabaseClock };
    // An immediate transaction like every writer's: SQLite lets one write at a time, so the page's
    // rows take sequences in commit order and no cursor passes one still to come. That also holds
    // up the projection while the page goes in, hence pages (see REPUBLICATION_PAGE_SIZE).
    return this.db
      .transaction((): RepublicationStep => {
        const owed = s.republicationMarker.get({ marker, ...bySweep }) as { position: number; queued_up_to: string | null; is_sweep_behind: number } | undefined;
        if (!owed) return { kind: 'nothing-owed' };
        if (BigInt(owed.position) > caughtUpTo || owed.is_sweep_behind === 1) return { kind: 'waiting' };
        const page = s.republicationPage.all({ after: owed.queued_up_to, pageSize }) as { subject_id: string; evaluated_at: string }[];
        for (const row of page) {
          s.insertRepublication.run(row.subject_id, row.evaluated_at, feed);
          // A partner told of the subject under the old rules is told it left (see REMEMBER_WHAT_PARTNERS_HEARD).
          s.tellPartnerWhoLeft.run(row.subject_id);
          s.forgetHeard.run(row.subject_id);
        }
        const isLast = page.length < pageSize;
        if (isLast) s.removeRepublicationMarker.run(marker);
        else s.markQueuedUpTo.run(page[page.length - 1].subject_id, marker);
        return { kind: 'queued', queued: page.length, isLast };
      })
      .immediate();
  }

  async tryLease(role: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    return this.statements.takeLease.get({ role, holder, expires: now + ttlMs, now }) !== undefined;
  }

  async releaseLease(role: string, holder: string): Promise<void> {
    this.statements.releaseLease.run(role, holder);
  }

  async leaseHolder(role: string): Promise<string | undefined> {
    const row = this.db.prepare('SELECT holder FROM rm_leases WHERE role = @role AND expires_at >= @now').get({ role, now: Date.now() }) as { holder: string } | undefined;
    return row?.holder;
  }

  async feedProgress(): Promise<FeedProgress[]> {
    return feedProgressOf(this.statements.feedProgress.all({ now: Date.now() }) as FeedProgressRecord[]);
  }

  async dump(): Promise<ReadModelTablesDump> {
    const all = (sql: string) => this.db.prepare(sql).all() as Record<string, unknown>[];
    return {
      checkpoint: this.readCheckpoint(READ_MODELS_CHECKPOINT).toString(),
      subjects: all(`SELECT ${SUBJECT_COLUMNS} FROM rm_subjects ORDER BY subject_id`),
      decisions: all(`SELECT ${DECISION_COLUMNS} FROM rm_decisions ORDER BY subject_id, brand, purpose`),
      suppressions: all('SELECT * FROM rm_suppressions ORDER BY channel, subject_id, scope, reason'),
      audiences: all(`SELECT ${AUDIENCE_COLUMNS} FROM rm_audience_members ORDER BY audience, subject_id`),
    };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private readCheckpoint(name: string): GlobalPosition {
    const row = this.statements.checkpoint.get(name) as { position: number } | undefined;
    return BigInt(row?.position ?? 0);
  }

  private loadViews(subjectIds: readonly string[]): Map<string, SubjectView> {
    if (subjectIds.length === 0) return new Map();
    const ids = JSON.stringify(subjectIds);
    const subjects = this.statements.subjectsIn.all(ids) as SqliteSubject[];
    const audiences = new Map<string, AudienceRecord[]>();
    for (const row of this.statements.audiencesIn.all({ ids }) as SqliteAudience[]) {
      audiences.set(row.subject_id, [...(audiences.get(row.subject_id) ?? []), fromSqliteAudience(row)]);
    }
    return new Map(
      subjects.map((row) => [
        row.subject_id,
        viewOf({ ...row, erased: row.erased === 1, last_position: String(row.last_position), brands: JSON.parse(row.brands) as string[] }, audiences.get(row.subject_id) ?? []),
      ]),
    );
  }

  private write(changes: ChangeSet): void {
    const s = this.statements;
    for (const change of changes.subjects) {
      const subject = subjectRecordOf(change);
      s.upsertSubject.run({ ...subject, brands: JSON.stringify(subject.brands), erased: subject.erased ? 1 : 0 });
      for (const row of change.decisions) {
        const record = decisionRecordOf(row);
        s.upsertDecision.run({
          ...record,
          allowed: record.allowed ? 1 : 0,
          channels: record.channels && JSON.stringify(record.channels),
          consented_channels: JSON.stringify(record.consented_channels),
          restricted_channels: JSON.stringify(record.restricted_channels),
          opted_out_sources: JSON.stringify(record.opted_out_sources),
        });
      }
      for (const row of change.suppressionsRemoved) s.deleteSuppression.run(suppressionRecordOf(row));
      for (const row of change.suppressionsAdded) s.upsertSuppression.run(suppressionRecordOf(row));
      for (const row of change.audiences) {
        const record = audienceRecordOf(row);
        s.upsertAudience.run({ ...record, member: record.member ? 1 : 0 });
      }
    }
  }
}

function fromSqliteAudience(row: SqliteAudience): AudienceRecord {
  return { ...row, member: row.member === 1, changed_at_position: String(row.changed_at_position) };
}

function fromSqliteDecision(row: SqliteDecision): DecisionRecord {
  return {
    ...row,
    allowed: row.allowed === 1,
    channels: row.channels === null ? null : (JSON.parse(row.channels) as string[]),
    consented_channels: JSON.parse(row.consented_channels) as string[],
    restricted_channels: JSON.parse(row.restricted_channels) as string[],
    opted_out_sources: JSON.parse(row.opted_out_sources) as string[],
  };
}

function prepare(db: Connection) {
  return {
    checkpoint: db.prepare('SELECT position FROM rm_checkpoints WHERE name = ?'),
    lastApplied: db.prepare('SELECT position, event_id FROM rm_checkpoints WHERE name = ?'),
    setReadModelsCheckpoint: db.prepare(`UPDATE rm_checkpoints SET position = ?, event_id = ? WHERE name = '${READ_MODELS_CHECKPOINT}'`),
    setCheckpoint: db.prepare(
      'INSERT INTO rm_checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
    ),
    subjectsIn: db.prepare(`SELECT ${SUBJECT_COLUMNS} FROM rm_subjects WHERE subject_id IN (SELECT value FROM json_each(?))`),
    ledgersIn: db.prepare(`SELECT subject_id, ledger, last_occurred_at FROM rm_subjects WHERE subject_id IN (SELECT value FROM json_each(?))`),
    // With a row `member: false` for each audience a partner heard of the subject in before a
    // rebuild that gave it none, until the republication writes it (see REMEMBER_WHAT_PARTNERS_HEARD):
    // a subject erased before then gets its tombstone there, as for any audience it has a row in.
    audiencesIn: db.prepare(
      `SELECT ${AUDIENCE_COLUMNS} FROM rm_audience_members WHERE subject_id IN (SELECT value FROM json_each(@ids))
       UNION ALL
       SELECT h.audience, h.subject_id, 0, s.evaluated_at, NULL, s.last_position
       FROM rm_audience_heard h JOIN rm_subjects s ON s.subject_id = h.subject_id
       WHERE h.subject_id IN (SELECT value FROM json_each(@ids))
         AND NOT EXISTS (SELECT 1 FROM rm_audience_members m WHERE m.audience = h.audience AND m.subject_id = h.subject_id)`,
    ),
    databaseNow: db.prepare("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now') AS now"),
    dueSubjects: db.prepare('SELECT subject_id FROM rm_subjects WHERE next_change_at <= ? ORDER BY next_change_at LIMIT ?'),
    upsertSubject: db.prepare(
      `INSERT INTO rm_subjects (${SUBJECT_COLUMNS})
       VALUES (@subject_id, @brand, @brands, @ledger, @last_position, @last_occurred_at, @evaluated_at, @next_change_at, @erased, @expiries)
       ON CONFLICT (subject_id) DO UPDATE SET brand = excluded.brand, brands = excluded.brands, ledger = excluded.ledger, last_position = excluded.last_position,
         last_occurred_at = excluded.last_occurred_at, evaluated_at = excluded.evaluated_at, next_change_at = excluded.next_change_at,
         erased = excluded.erased, expiries = excluded.expiries`,
    ),
    upsertDecision: db.prepare(
      `INSERT INTO rm_decisions (${DECISION_COLUMNS})
       VALUES (@subject_id, @brand, @purpose, @allowed, @reason, @legal_basis, @valid_until, @based_on, @channels, @consented_channels,
         @restricted_channels, @opted_out_sources, @changes_at)
       ON CONFLICT (subject_id, brand, purpose) DO UPDATE SET allowed = excluded.allowed, reason = excluded.reason, legal_basis = excluded.legal_basis,
         valid_until = excluded.valid_until, based_on = excluded.based_on, channels = excluded.channels, consented_channels = excluded.consented_channels,
         restricted_channels = excluded.restricted_channels, opted_out_sources = excluded.opted_out_sources, changes_at = excluded.changes_at`,
    ),
    decisionsOf: db.prepare(`SELECT ${DECISION_COLUMNS} FROM rm_decisions WHERE subject_id = @subject AND (@brand IS NULL OR brand = @brand) ORDER BY brand, purpose`),
    upsertSuppression: db.prepare(
      `INSERT INTO rm_suppressions (channel, subject_id, scope, reason, since)
       VALUES (@channel, @subject_id, @scope, @reason, @since)
       ON CONFLICT (channel, subject_id, scope, reason) DO UPDATE SET since = excluded.since`,
    ),
    deleteSuppression: db.prepare(
      'DELETE FROM rm_suppressions WHERE channel = @channel AND subject_id = @subject_id AND scope = @scope AND reason = @reason',
    ),
    upsertAudience: db.prepare(
      `INSERT INTO rm_audience_members (${AUDIENCE_COLUMNS})
       VALUES (@audience, @subject_id, @member, @since, @valid_until, @changed_at_position)
       ON CONFLICT (audience, subject_id) DO UPDATE SET member = excluded.member, since = excluded.since, valid_until = excluded.valid_until,
         changed_at_position = excluded.changed_at_position`,
    ),
    catalogueRules: db.prepare('SELECT version, digest FROM rm_catalogue'),
    recordCatalogueRules: db.prepare(
      `INSERT INTO rm_catalogue (only_row, version, digest, recorded_at) VALUES (1, ?, ?, ?)
       ON CONFLICT (only_row) DO UPDATE SET version = excluded.version, digest = excluded.digest, recorded_at = excluded.recorded_at`,
    ),
    insertStateChange: db.prepare('INSERT INTO rm_state_changes (subject_id, audiences, changed_at) VALUES (?, ?, ?)'),
    pendingStateChanges: db.prepare(
      `SELECT sequence, subject_id, changed_at, audiences, feed FROM rm_state_changes
       WHERE sequence > COALESCE((SELECT position FROM rm_checkpoints WHERE name = ?), 0)
       ORDER BY sequence LIMIT ?`,
    ),
    forgetPublishedStateChanges: db.prepare(
      `DELETE FROM rm_state_changes WHERE sequence <= (SELECT min(position) FROM rm_checkpoints WHERE name LIKE '${OUTBOX_CURSOR_PREFIX}%')`,
    ),
    followStateChanges: db.prepare('INSERT INTO rm_checkpoints (name, position) VALUES (?, 0) ON CONFLICT (name) DO NOTHING'),
    republicationMarker: db.prepare(
      `SELECT position, queued_up_to, EXISTS (
         SELECT 1 FROM rm_subjects
         WHERE next_change_at < coalesce(@sweptUpTo, strftime('%Y-%m-%dT%H:%M:%fZ', julianday('now') - @msBeforeClock / 86400000.0))
       ) AS is_sweep_behind
       FROM rm_checkpoints WHERE name = @marker`,
    ),
    republicationPage: db.prepare(
      `SELECT subject_id, evaluated_at FROM rm_subjects WHERE erased = 0 AND (@after IS NULL OR subject_id > @after)
       ORDER BY subject_id LIMIT @pageSize`,
    ),
    insertRepublication: db.prepare('INSERT INTO rm_state_changes (subject_id, changed_at, feed) VALUES (?, ?, ?)'),
    tellPartnerWhoLeft: db.prepare(
      `INSERT INTO rm_audience_members (audience, subject_id, member, since, valid_until, changed_at_position)
       SELECT h.audience, h.subject_id, 0, s.evaluated_at, NULL, s.last_position
       FROM rm_audience_heard h JOIN rm_subjects s ON s.subject_id = h.subject_id WHERE h.subject_id = ?
       ON CONFLICT (audience, subject_id) DO NOTHING`,
    ),
    forgetHeard: db.prepare('DELETE FROM rm_audience_heard WHERE subject_id = ?'),
    markQueuedUpTo: db.prepare('UPDATE rm_checkpoints SET queued_up_to = ? WHERE name = ?'),
    removeRepublicationMarker: db.prepare('DELETE FROM rm_checkpoints WHERE name = ?'),
    takeLease: db.prepare(
      `INSERT INTO rm_leases (role, holder, expires_at) VALUES (@role, @holder, @expires)
       ON CONFLICT (role) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE rm_leases.holder = excluded.holder OR rm_leases.expires_at < @now
       RETURNING holder`,
    ),
    holdsLease: db.prepare('SELECT 1 FROM rm_leases WHERE role = ? AND holder = ? AND expires_at >= ?'),
    releaseLease: db.prepare('DELETE FROM rm_leases WHERE role = ? AND holder = ?'),
    feedProgress: db.prepare(feedProgressQuery('@now')),
  };
}

import type { Brand, Instant, Ledger } from '@consent-ledger/domain';
import type { GlobalPosition, StoredEvent } from '@consent-ledger/event-store';
import type { AudienceId, AudienceRow } from '../audience-membership/audience-membership.projection';
import type { ChangeSet, SubjectChange } from '../change-set';
import type { SuppressionRow } from '../channel-suppressions/channel-suppressions.projection';
import type { DecisionRow } from '../current-decisions/current-decisions.projection';
import type { SubjectView } from '../subject-ledger/subject-view';

/** The checkpoint every read-model table advances with, in the same transaction. */
export const READ_MODELS_CHECKPOINT = 'read-models';

/**
 * Time-driven changes are judged by the database's clock, as the leases are (ADR 0005), not by
 * whichever projector host leads: the instant an expiry is published must not depend on the
 * leader's clock, nor jump when another instance takes over.
 */
export const DATABASE_CLOCK = 'database-clock';

/**
 * How far the sweep must have come before a republication page goes in: an instant, or so many
 * milliseconds before the database's clock, which the sweep itself goes by. A feed host's own
 * clock running ahead held every page back while anything was due within the difference.
 */
export type SweptUpTo = Instant | { readonly msBeforeDatabaseClock: number };

/**
 * The name of the Kafka feed publishing to the topics of `topicPrefix`: its checkpoint in
 * `rm_checkpoints` and its lease in `rm_leases`. One feed per prefix, since deployments sharing a
 * database but not topics each publish their own. The health answer finds the feeds by it.
 */
export const CONSENT_FEED = 'consent-feed';
export const consentFeedOf = (topicPrefix: string): string => (topicPrefix ? `${CONSENT_FEED}:${topicPrefix}` : CONSENT_FEED);

/** A feed as the read-model database knows it: what it has published, and who publishes it now. */
export interface FeedProgress {
  readonly name: string;
  /** The last log position it published (0 before its first). */
  readonly position: GlobalPosition;
  /** The instance holding its lease now; undefined when nobody does or the lease has expired. */
  readonly leader?: string;
  /**
   * Retired for good by the operator, who deleted its outbox cursor (`outbox:<feed>`, see
   * read-models.md), and led by no instance: its other rows stay, but nobody is meant to publish
   * it. A feed started again makes its cursor again, and is no longer retired.
   */
  readonly isRetired: boolean;
}

/**
 * SQL for `feedProgress`, with the dialect's expression for the database's time now, as the lease
 * checks judge expiry: a feed known by its checkpoint, its lease or both (a leader that has not
 * published yet has no checkpoint; a feed no instance has led since its lease was released, no
 * lease row), and whether it still has its outbox cursor.
 */
export const feedProgressQuery = (now: string): string => `
      SELECT feed.name, COALESCE(checkpoint.position, 0) AS position, lease.holder,
        EXISTS (SELECT 1 FROM rm_checkpoints outbox WHERE outbox.name = '${OUTBOX_CURSOR_PREFIX}' || feed.name) AS has_outbox_cursor
      FROM (
        SELECT name FROM rm_checkpoints WHERE name = '${CONSENT_FEED}' OR name LIKE '${CONSENT_FEED}:%'
        UNION SELECT role FROM rm_leases WHERE role = '${CONSENT_FEED}' OR role LIKE '${CONSENT_FEED}:%'
      ) feed
      LEFT JOIN rm_checkpoints checkpoint ON checkpoint.name = feed.name
      LEFT JOIN rm_leases lease ON lease.role = feed.name AND lease.expires_at >= ${now}
`;

/** A row of `feedProgressQuery` as either database returns it (SQLite's booleans are 0 and 1). */
export interface FeedProgressRecord {
  readonly name: string;
  readonly position: string | number;
  readonly holder: string | null;
  readonly has_outbox_cursor: boolean | number;
}

/** Sorted here rather than by SQL, so both databases give one order whatever their collation. */
export const feedProgressOf = (rows: readonly FeedProgressRecord[]): FeedProgress[] =>
  rows
    .map((row) => ({
      name: row.name,
      position: BigInt(row.position),
      ...(row.holder !== null && { leader: row.holder }),
      isRetired: !row.has_outbox_cursor && row.holder === null,
    }))
    .sort((one, other) => (one.name < other.name ? -1 : one.name > other.name ? 1 : 0));

/**
 * A checkpoint row naming a feed that must publish every subject again once the read models,
 * rebuilt by a migration, are back at the position it holds (what the feed had published).
 */
const REPUBLICATION_MARKER_PREFIX = 'republish:';
export const republicationMarkerOf = (feed: string): string => `${REPUBLICATION_MARKER_PREFIX}${feed}`;

/**
 * A checkpoint row holding the last state change a feed published: deployments with topics of
 * their own share the read models, and each must publish every change caused by time.
 */
export const OUTBOX_CURSOR_PREFIX = 'outbox:';
export const outboxCursorOf = (feed: string): string => `${OUTBOX_CURSOR_PREFIX}${feed}`;

/** Keyed by subject first: the republication takes the entries of a range of subjects at a time. */
export const AUDIENCE_HEARD_TABLE = `
      CREATE TABLE IF NOT EXISTS rm_audience_heard (subject_id text NOT NULL, audience text NOT NULL, PRIMARY KEY (subject_id, audience));
`;

/**
 * SQL run before anything empties the audience rows (a migration that rebuilds, a rule change, a
 * log found replaced): which subjects each partner has heard of. The rebuild decides membership
 * from the log under the rules now in force, and a subject who was never a member under them gets
 * no row; but a partner told `member: true` under the old rules goes on targeting the person
 * until told otherwise (found in review: after migration 13, a Scarlet-only customer stayed in
 * Ads & Data, and stayed there after being erased, since tombstones follow rows). The
 * republication gives such a subject a row saying it left (each storage's
 * `enqueueRepublicationPage`). The table is made by the migration runner rather than by a numbered
 * migration, as it must be filled before any pending one rebuilds.
 */
export const REMEMBER_WHAT_PARTNERS_HEARD = `
      ${AUDIENCE_HEARD_TABLE}
      INSERT INTO rm_audience_heard (audience, subject_id) SELECT audience, subject_id FROM rm_audience_members WHERE true ON CONFLICT DO NOTHING;
`;

/**
 * Migration SQL: a marker for every feed that has published something, at what it published.
 * Shipped with a rebuild whose rules change values consumers already hold. A marker still waiting
 * from an earlier migration stays: the feed has not published past it yet. (Anything after
 * migration 8 ships `markFeedsForRepublicationAgain` instead.)
 */
export const MARK_FEEDS_FOR_REPUBLICATION = `
      INSERT INTO rm_checkpoints (name, position)
      SELECT '${REPUBLICATION_MARKER_PREFIX}' || name, position FROM rm_checkpoints
      WHERE name <> '${READ_MODELS_CHECKPOINT}' AND name NOT LIKE '${REPUBLICATION_MARKER_PREFIX}%' AND name NOT LIKE '${OUTBOX_CURSOR_PREFIX}%'
        AND position > 0
      ON CONFLICT (name) DO NOTHING;
`;

/**
 * SQL (from migration 8 on) for rules changed once more: a marker for every feed that has
 * published, at what it published. A marker still waiting moves up to where its feed is now (the
 * feed published further under the rules now replaced) and starts its republication again from
 * the first subject. `greatest` is the dialect's: `GREATEST` (PostgreSQL) or `max` (SQLite).
 */
export const markFeedsForRepublicationAgain = (greatest: 'GREATEST' | 'max'): string => `
      INSERT INTO rm_checkpoints (name, position)
      SELECT '${REPUBLICATION_MARKER_PREFIX}' || name, position FROM rm_checkpoints
      WHERE name <> '${READ_MODELS_CHECKPOINT}' AND name NOT LIKE '${REPUBLICATION_MARKER_PREFIX}%' AND name NOT LIKE '${OUTBOX_CURSOR_PREFIX}%'
        AND position > 0
      ON CONFLICT (name) DO UPDATE SET position = ${greatest}(rm_checkpoints.position, excluded.position);
      UPDATE rm_checkpoints SET queued_up_to = NULL WHERE name LIKE '${REPUBLICATION_MARKER_PREFIX}%';
`;

/**
 * SQL (migration 13's column) for read models found built from another log than the one opened:
 * marks every feed that had published, as a rule change does, then brings every feed's position
 * and marker down to `head`, the log's end, since positions past it named events of the other log
 * (a feed left there would wait for the log to reach them, then pass over the events before).
 * `least` is the dialect's: `LEAST` (PostgreSQL) or `min` (SQLite).
 */
export const followAnotherLog = (head: GlobalPosition, least: 'LEAST' | 'min'): string => `
      ${markFeedsForRepublicationAgain(least === 'LEAST' ? 'GREATEST' : 'max')}
      UPDATE rm_checkpoints SET position = ${least}(position, ${head.toString()})
      WHERE name <> '${READ_MODELS_CHECKPOINT}' AND name NOT LIKE '${OUTBOX_CURSOR_PREFIX}%';
`;

/**
 * The last event the read models applied: the checkpoint, and the id of the event at it (recorded
 * from migration 13 on), which tells whether the log opened is the one they were built from.
 */
export interface LastApplied {
  readonly position: GlobalPosition;
  /** Undefined at position 0, or for a checkpoint written before the id was recorded. */
  readonly eventId?: string;
}

/** The id of the batch's event at `position`, where a writer moves the checkpoint to (null if none: never, as plans go). */
export const eventIdAt = (events: readonly StoredEvent[], position: GlobalPosition): string | null =>
  events.find((event) => event.position === position)?.eventId ?? null;

/**
 * Subjects a republication puts in the outbox per transaction: 130–230 ms on the 2-core dev
 * machine, PostgreSQL and SQLite alike (2 KB ledgers). SQLite's projection waits that long for
 * a page; PostgreSQL's waits only when the sweep has a change to insert meanwhile. The feed
 * queues a page once it has published the one before, so the outbox holds one at most.
 */
export const REPUBLICATION_PAGE_SIZE = 10_000;

/** What one call of `enqueueRepublicationPage` did. */
export type RepublicationStep =
  /** Nothing is owed to the feed: no migration marked it, or the last page has gone in. */
  | { readonly kind: 'nothing-owed' }
  /** Owed, not yet: the rebuild is behind what the feed had published, or the sweep behind time. */
  | { readonly kind: 'waiting' }
  /** `queued` subjects went into the outbox; after the last page, the marker is gone. */
  | { readonly kind: 'queued'; readonly queued: number; readonly isLast: boolean };
/**
 * The catalogue rules the rows were decided under: its version, and a digest of everything in it
 * that can change a decision (see `catalogueRulesOf`).
 */
export interface CatalogueRules {
  readonly version: string;
  readonly digest: string;
}

/**
 * What opening the read models under `rules` does, given the rules they recorded: record them
 * (the first catalogue), rebuild under them (other rules), or nothing but a new version label.
 * Each storage carries it out in one transaction.
 */
export function catalogueFollowedOf(recorded: CatalogueRules | undefined, rules: CatalogueRules): { readonly followed: CatalogueFollowed; readonly isRecordDue: boolean } {
  if (recorded === undefined) return { followed: { outcome: 'recorded' }, isRecordDue: true };
  if (recorded.digest !== rules.digest) return { followed: { outcome: 'rebuilt', previousVersion: recorded.version }, isRecordDue: true };
  return { followed: { outcome: 'unchanged' }, isRecordDue: recorded.version !== rules.version };
}

/**
 * Another process opened the read models under other catalogue rules and rebuilt them: this one
 * must not decide rows under its own (a deployment rolled out one process at a time). It stops
 * writing until it is restarted with the catalogue the tables follow.
 */
export class CatalogueRulesChanged extends Error {
  constructor(
    readonly ours: CatalogueRules,
    readonly theirs: CatalogueRules | undefined,
  ) {
    super(
      `the read models now follow catalogue ${theirs?.version ?? '(none recorded)'} with other rules than this process's ${ours.version}: ` +
        'this process writes nothing to them; a projector started on that catalogue rebuilt them, so finish the rollout (restart this one on it) or roll that one back',
    );
    this.name = 'CatalogueRulesChanged';
  }
}

/** Throws CatalogueRulesChanged unless the tables follow `ours` (a reworded catalogue is the same rules). */
export function assertSameRules(ours: CatalogueRules, theirs: CatalogueRules | undefined): void {
  if (theirs?.digest !== ours.digest) throw new CatalogueRulesChanged(ours, theirs);
}

/** What `followCatalogue` found: the first catalogue recorded, the same rules, or other rules (and the version they had). */
export type CatalogueFollowed = { readonly outcome: 'recorded' | 'unchanged' } | { readonly outcome: 'rebuilt'; readonly previousVersion: string };

/** A subject whose decisions changed because time passed, waiting to be published. */
export interface StateChange {
  readonly sequence: number;
  readonly subjectId: string;
  /** The instant the re-evaluation looked at. */
  readonly changedAt: Instant;
  /**
   * The audience memberships the change touched; absent: every one the subject has (a
   * republication). A partner hears of a subject only when its own membership changed.
   */
  readonly audiences?: readonly AudienceId[];
}

export interface StateChangePage {
  readonly changes: readonly StateChange[];
  /** The last outbox row looked at; undefined when there was none. */
  readonly lastSequence?: number;
  /** The page was full: more may be waiting. */
  readonly isFull: boolean;
}

/** An outbox row as both databases return it. */
export interface OutboxRecord {
  readonly sequence: string | number;
  readonly subject_id: string;
  readonly changed_at: string;
  readonly audiences: string | null;
  readonly feed: string | null;
}

/** The rows `feed` publishes of a page read after its cursor: its own and every feed's, not other feeds' republications. */
export function stateChangePageOf(rows: readonly OutboxRecord[], feed: string, limit: number): StateChangePage {
  const changes = rows
    .filter((row) => row.feed === null || row.feed === feed)
    .map((row) => ({ sequence: Number(row.sequence), subjectId: row.subject_id, changedAt: row.changed_at as Instant, audiences: audiencesOfColumn(row.audiences) }));
  return { changes, ...(rows.length > 0 && { lastSequence: Number(rows[rows.length - 1].sequence) }), isFull: rows.length === limit };
}

/** How the outbox stores `StateChange.audiences`: null for every one, else the ids joined by commas. */
export const audiencesColumnOf = (change: SubjectChange): string => change.audiences.map((row) => row.audience).join(',');
export const audiencesOfColumn = (column: string | null): readonly AudienceId[] | undefined =>
  column === null ? undefined : column === '' ? [] : (column.split(',') as AudienceId[]);

/** Plans a transaction from what is stored: pure, run by the storage inside the transaction. */
export type Planner = (checkpoint: GlobalPosition, views: ReadonlyMap<string, SubjectView>) => ChangeSet;

export interface ReadModelTablesDump {
  readonly checkpoint: string;
  readonly subjects: readonly Record<string, unknown>[];
  readonly decisions: readonly Record<string, unknown>[];
  readonly suppressions: readonly Record<string, unknown>[];
  readonly audiences: readonly Record<string, unknown>[];
}

/**
 * Where the read models live (SQLite in the embedded mode, PostgreSQL in production). The storage
 * owns transactions; the projection logic is the planner it runs inside them, so every adapter
 * applies an event and advances the checkpoint atomically, and skips what it already holds.
 */
export interface ReadModelStorage {
  readonly kind: 'sqlite' | 'postgres';

  /** Loads the views of the events' subjects, plans, writes the plan and the checkpoint: one transaction. */
  applyEvents(events: readonly StoredEvent[], plan: Planner): Promise<ChangeSet>;
  /**
   * Re-evaluates up to `limit` subjects whose decisions change on their own by `now`, and records
   * the visible changes in the state-change outbox in the same transaction. With `DATABASE_CLOCK`,
   * `now` is the database's own time, read in that transaction (SQLite: its process's system
   * clock, as read by SQLite), and handed to `plan`.
   */
  reevaluateDue(now: Instant | typeof DATABASE_CLOCK, limit: number, plan: (checkpoint: GlobalPosition, views: readonly SubjectView[], now: Instant) => ChangeSet): Promise<ChangeSet>;
  /** Empties every read-model table and sets the checkpoint back to the start, atomically. */
  reset(): Promise<void>;
  /** The checkpoint and the id of the event at it. */
  lastApplied(): Promise<LastApplied>;
  /**
   * The read models were built from another log than the one now opened (a backup of it restored,
   * its file replaced): empties the tables, rewinds the checkpoint, marks every feed that had
   * published and brings the feeds down to `head` (see `followAnotherLog`), in one transaction.
   */
  rebuildForAnotherLog(head: GlobalPosition): Promise<void>;
  /**
   * Records the catalogue rules the rows are decided under. Opened under other rules (an edited
   * catalogue deployed), it empties the tables, rewinds the checkpoint and marks every feed that
   * had published, as a migration that decides differently does, all in one transaction.
   */
  followCatalogue(rules: CatalogueRules): Promise<CatalogueFollowed>;
  /** The rules the rows follow, as the process that keeps them recorded them; undefined before any was. */
  recordedRules(): Promise<CatalogueRules | undefined>;

  checkpoint(name?: string): Promise<GlobalPosition>;
  /** Moves a non-read-model checkpoint (e.g. the Kafka publisher's), only while `holder` holds the role's lease. */
  saveCheckpoint(name: string, position: GlobalPosition, fence?: { role: string; holder: string }): Promise<boolean>;

  views(subjectIds: readonly string[]): Promise<Map<string, SubjectView>>;
  /**
   * The subjects' views with the read models' checkpoint as of the same read: another process may
   * have emptied the tables for a rebuild since the caller last looked, and a view read then may
   * stand at an earlier event of its subject than the caller has published (see `StoredViews`).
   */
  viewsAsApplied(subjectIds: readonly string[]): Promise<StoredViews>;
  /**
   * What an audience question needs of each subject: its ledger and latest instant, without the
   * rest of its view; with the read models' checkpoint as of the same read, since another process
   * may have emptied the tables for a rebuild after this one last saw them.
   */
  ledgers(subjectIds: readonly string[]): Promise<StoredLedgers>;
  /** The subject's stored decision rows, of every brand it has rows for or of `brand` alone. */
  decisionRows(subjectId: string, brand?: Brand): Promise<DecisionRow[]>;
  suppressionRows(filter?: { channel?: string; subjectId?: string }): Promise<SuppressionRow[]>;
  audienceRows(audience: AudienceId, subjectIds?: readonly string[]): Promise<AudienceRow[]>;

  /**
   * Gives `feed` a cursor on the outbox if it has none (from the start of what is kept), so no
   * change is forgotten before it has published it. Run before the feed first reads the outbox.
   */
  followStateChanges(feed: string): Promise<void>;
  /**
   * Up to `limit` outbox rows after `feed`'s cursor: the changes for it (for every feed, or for it
   * alone: a republication), and the last sequence looked at, which the cursor may move to even
   * when every row was another feed's.
   */
  pendingStateChanges(feed: string, limit: number): Promise<StateChangePage>;
  /**
   * Moves `feed` past the changes up to `upToSequence`, only while `fence` holds the lease (false
   * otherwise), and forgets the changes every feed has passed.
   */
  stateChangesPublished(feed: string, upToSequence: number, fence?: { role: string; holder: string }): Promise<boolean>;
  /**
   * After a migration rebuilt the read models (a rule changed, so values already published may be
   * wrong), puts the next `pageSize` subjects not erased, in order of id, in the state-change
   * outbox for `feed` alone, in a transaction of their own, and keeps the last one in the marker,
   * so the next call (in this process or after a restart) goes on after it. The page that finds
   * fewer than `pageSize` is the last: it removes the marker. A page goes in only while the read
   * models have caught up with what the feed had published, and the sweep with what time changed
   * meanwhile (no subject due before `sweptUpTo`), so a value is not published as it stood at the
   * subject's last event. Every subject goes in once per republication; one the projection adds
   * meanwhile, only if the pages have not passed its id yet (its own event publishes it anyway).
   */
  enqueueRepublicationPage(feed: string, caughtUpTo: GlobalPosition, sweptUpTo: SweptUpTo, pageSize?: number): Promise<RepublicationStep>;

  /** Takes or renews a role's lease for `ttlMs`; false while another holder's lease runs. */
  tryLease(role: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(role: string, holder: string): Promise<void>;
  /** Who holds the role's lease now; undefined when nobody does or the lease expired. */
  leaseHolder(role: string): Promise<string | undefined>;
  /**
   * Every feed that has a checkpoint or a lease (see `consentFeedOf`), its position and the holder
   * of its lease now, in order of name: one statement, so a position and a leader are of one moment.
   */
  feedProgress(): Promise<FeedProgress[]>;

  /**
   * Subscribes to checkpoint moves made by other processes (PostgreSQL NOTIFY); undefined where
   * impossible. Resolves once moves are being heard; `lost` is called if that stops.
   */
  watchCheckpoint?(listener: (position: GlobalPosition) => void, lost?: () => void): Promise<() => Promise<void>>;

  /** Every read-model row in a stable order: what rebuild-equality tests compare. */
  dump(): Promise<ReadModelTablesDump>;
  close(): Promise<void>;
}

/** Views, and how far the log was applied when they were read. */
export interface StoredViews {
  readonly views: Map<string, SubjectView>;
  /** Below what the caller published: a rebuild is under way, and the views may be half-rebuilt. */
  readonly appliedUpTo: GlobalPosition;
}

/** A subject's folded ledger as the read models hold it, and the instant of its latest choice. */
export interface StoredLedgers {
  readonly ledgers: Map<string, StoredLedger>;
  /** How far the log was applied when the ledgers were read. */
  readonly appliedUpTo: GlobalPosition;
}

export interface StoredLedger {
  readonly ledger: Ledger;
  readonly lastOccurredAt: Instant;
}

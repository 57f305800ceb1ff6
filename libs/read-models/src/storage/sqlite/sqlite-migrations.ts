import type { Database } from 'better-sqlite3';
import { AUDIENCE_HEARD_TABLE, MARK_FEEDS_FOR_REPUBLICATION, markFeedsForRepublicationAgain, REMEMBER_WHAT_PARTNERS_HEARD } from '../read-model-storage';

interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Append-only: a shipped migration is never edited, a change is a new version. Every table is
 * prefixed `rm_` so the read models can share a file (or a PostgreSQL schema) with other tables.
 */
/**
 * Empties the tables and rewinds the checkpoint: the read models rebuild from the log at the next
 * start. What a version that decides differently ships, so stored rows never disagree with it.
 */
export const REBUILD = `
      DELETE FROM rm_subjects;
      DELETE FROM rm_decisions;
      DELETE FROM rm_suppressions;
      DELETE FROM rm_audience_members;
      UPDATE rm_checkpoints SET position = 0 WHERE name = 'read-models';
`;

const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'subject ledgers, current decisions, channel suppressions, audience membership, checkpoints, leases, state-change outbox',
    sql: `
      CREATE TABLE rm_checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO rm_checkpoints (name, position) VALUES ('read-models', 0);
      CREATE TABLE rm_subjects (
        subject_id TEXT PRIMARY KEY,
        brand TEXT NOT NULL,
        ledger TEXT NOT NULL,
        last_position INTEGER NOT NULL,
        last_occurred_at TEXT NOT NULL,
        evaluated_at TEXT NOT NULL,
        next_change_at TEXT,
        erased INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX rm_subjects_next_change ON rm_subjects (next_change_at) WHERE next_change_at IS NOT NULL;
      CREATE TABLE rm_decisions (
        subject_id TEXT NOT NULL,
        purpose TEXT NOT NULL,
        allowed INTEGER NOT NULL,
        reason TEXT NOT NULL,
        legal_basis TEXT NOT NULL,
        valid_until TEXT,
        based_on TEXT NOT NULL,
        consented_channels TEXT NOT NULL,
        restricted_channels TEXT NOT NULL,
        opted_out_sources TEXT NOT NULL,
        changes_at TEXT,
        PRIMARY KEY (subject_id, purpose)
      ) WITHOUT ROWID;
      CREATE INDEX rm_decisions_by_purpose ON rm_decisions (purpose, allowed);
      CREATE TABLE rm_suppressions (
        channel TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        reason TEXT NOT NULL,
        since TEXT NOT NULL,
        PRIMARY KEY (channel, subject_id, scope, reason)
      ) WITHOUT ROWID;
      CREATE INDEX rm_suppressions_by_subject ON rm_suppressions (subject_id);
      CREATE TABLE rm_audience_members (
        audience TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        member INTEGER NOT NULL,
        since TEXT NOT NULL,
        valid_until TEXT,
        changed_at_position INTEGER NOT NULL,
        PRIMARY KEY (audience, subject_id)
      ) WITHOUT ROWID;
      CREATE INDEX rm_audience_members_by_subject ON rm_audience_members (subject_id);
      CREATE TABLE rm_state_changes (
        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
        subject_id TEXT NOT NULL,
        changed_at TEXT NOT NULL
      );
      CREATE TABLE rm_leases (role TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'per-purpose expiries on subjects (lets an event re-evaluate only the purposes it touches); the read models rebuild',
    sql: `
      ALTER TABLE rm_subjects ADD COLUMN expiries TEXT NOT NULL DEFAULT '{}';
      ${REBUILD}
    `,
  },
  {
    version: 3,
    name: 'decisions of legal obligations follow their audience and period, audience memberships restart after a lapse; the read models rebuild',
    sql: REBUILD,
  },
  {
    version: 4,
    name: 'audience membership needs every data source the purpose uses; the read models rebuild',
    sql: REBUILD,
  },
  {
    version: 5,
    name: 'a decision asked without a channel lists the channels it may use (and is denied when every one is restricted)',
    sql: `ALTER TABLE rm_decisions ADD COLUMN channels TEXT;`,
  },
  {
    version: 6,
    name: 'decisions changed (channels of a decision, objection reviews, customer-only consents, erasure exceptions, promotional notifications); the read models rebuild and the feeds publish every subject again',
    sql: `
      ${MARK_FEEDS_FOR_REPUBLICATION}
      ${REBUILD}
    `,
  },
  {
    version: 7,
    name: 'each feed reads the time-driven outbox from a cursor of its own (deployments with their own topics share the read models); a change can be for one feed, and names the audiences it touched',
    sql: `
      ALTER TABLE rm_state_changes ADD COLUMN feed TEXT;
      ALTER TABLE rm_state_changes ADD COLUMN audiences TEXT;
    `,
  },
  {
    version: 8,
    name: 'a republication goes into the outbox a page of subjects at a time: its marker keeps the last subject queued, so a restart goes on after it',
    sql: `ALTER TABLE rm_checkpoints ADD COLUMN queued_up_to TEXT;`,
  },
  {
    version: 9,
    name: 'the catalogue rules the rows were decided under; an edited catalogue rebuilds them and the feeds publish every subject again',
    sql: `CREATE TABLE rm_catalogue (only_row INTEGER PRIMARY KEY CHECK (only_row = 1), version TEXT NOT NULL, digest TEXT NOT NULL, recorded_at TEXT NOT NULL);`,
  },
  {
    version: 10,
    name: 'decisions changed (a former customer recorded again as a prospect stays one; a consent to a customer-only purpose ends with the contract it was given under; a purpose asked without a source is denied once every source it uses is opted out; audiences are decided for the brands of their purposes, and the brand of a subject is that of a running relationship before one that ended; an erased subject keeps no pending change from the consents its erasure stopped; a consent given after an objection to direct marketing counts for its purpose, on the channels it covers; a customer-only consent recorded for a brand the subject had no running contract with ends with the contract of another brand; only the first end of a contract ends the consents given under it); the read models rebuild and the feeds publish every subject again',
    sql: `
      ${markFeedsForRepublicationAgain('max')}
      ${REBUILD}
    `,
  },
  {
    version: 11,
    name: 'decisions changed (a relationship is replayed from every start and end in the person\'s order, prospects included, so late paperwork gives the same relationship in any arrival order, and at one instant an end before a start; an end while nothing ran ends nothing, also as of an instant before the start it belongs to; a customer\'s dates come from the contract history; a decision denied for another reason is looked at again when the subject leaves the purpose\'s audience); the read models rebuild and the feeds publish every subject again',
    sql: `
      ${markFeedsForRepublicationAgain('max')}
      ${REBUILD}
    `,
  },
  {
    version: 12,
    name: 'subjects are looked at again when a decision of another brand of theirs changes in time (a former customer of one brand who is a customer of the other), so the other brands on the state topic follow; the read models rebuild and the feeds publish every subject again',
    sql: `
      ${markFeedsForRepublicationAgain('max')}
      ${REBUILD}
    `,
  },
  {
    version: 13,
    name: 'decisions changed (an objection is replayed from every objection, withdrawal and review in the instants\' order, so a review answers the objection raised at its own instant, whichever reached the ledger first; stored ledgers keep that history, snapshot format 3; a purpose that also reaches users, visitors or callers stops for a former customer once the window it declares for them closes; a purpose excluded for a brand is denied to a subject whose only running contracts are with that brand, whatever brand the question names; a channel restricted for every purpose stops only what the person may object to at will, marketing); the checkpoint records the id of the event it is at, so read models built from another log (a backup restored) are told and rebuilt; the read models rebuild and the feeds publish every subject again',
    sql: `
      ALTER TABLE rm_checkpoints ADD COLUMN event_id TEXT;
      ${markFeedsForRepublicationAgain('max')}
      ${REBUILD}
    `,
  },
  {
    version: 14,
    name: "decisions changed (a channel restricted for every purpose stops marketing, the purposes a group objection reaches without justification, and no longer the app's service notifications nor invitations to market research, which a restriction naming them stops); the read models rebuild and the feeds publish every subject again",
    sql: `
      ${markFeedsForRepublicationAgain('max')}
      ${REBUILD}
    `,
  },
  {
    version: 15,
    name: 'suppression lists follow a consent given since an objection: on a channel where the person consented to a purpose after objecting to it or to direct marketing, the objection is listed under each purpose it still stops, not under the group; the read models rebuild and the feeds publish every subject again',
    sql: `
      ${markFeedsForRepublicationAgain('max')}
      ${REBUILD}
    `,
  },
  {
    version: 16,
    name: "decision rows are kept per brand (rm_decisions.brand, part of the key) for the subject's brand and every other it dealt with, a relationship or a choice (rm_subjects.brands): a customer of both brands read as the brand whose contract started last, and the other brand's campaigns lost them; a subject without a relationship keeps the brand of its latest choice when the controller reviews its objection or erases it; the read models rebuild and the feeds publish every subject again",
    // SQLite cannot change a table's key: rm_decisions, empty after the rebuild, is made again.
    sql: `
      ${markFeedsForRepublicationAgain('max')}
      ${REBUILD}
      ALTER TABLE rm_subjects ADD COLUMN brands TEXT NOT NULL DEFAULT '[]';
      DROP TABLE rm_decisions;
      CREATE TABLE rm_decisions (
        subject_id TEXT NOT NULL,
        brand TEXT NOT NULL,
        purpose TEXT NOT NULL,
        allowed INTEGER NOT NULL,
        reason TEXT NOT NULL,
        legal_basis TEXT NOT NULL,
        valid_until TEXT,
        based_on TEXT NOT NULL,
        channels TEXT,
        consented_channels TEXT NOT NULL,
        restricted_channels TEXT NOT NULL,
        opted_out_sources TEXT NOT NULL,
        changes_at TEXT,
        PRIMARY KEY (subject_id, brand, purpose)
      ) WITHOUT ROWID;
      CREATE INDEX rm_decisions_by_purpose ON rm_decisions (purpose, brand, allowed);
    `,
  },
];

/**
 * Brings the file up to date (or to `lastVersion`: the file an earlier version left, which a test
 * upgrades); safe when two processes open it at once (BEGIN IMMEDIATE serialises them).
 */
export function migrateSqliteReadModels(db: Database, lastVersion = Infinity): void {
  db.exec(`CREATE TABLE IF NOT EXISTS rm_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const isApplied = db.prepare('SELECT 1 FROM rm_schema_migrations WHERE version = ?');
  const markApplied = db.prepare('INSERT INTO rm_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const wanted = migrations.filter((migration) => migration.version <= lastVersion);
  // Pending migrations rebuild, and the audience rows (from migration 1 on) go with them.
  const isPending = wanted.some((migration) => !isApplied.get(migration.version));
  db.exec(isApplied.get(1) && isPending ? REMEMBER_WHAT_PARTNERS_HEARD : AUDIENCE_HEARD_TABLE);
  for (const migration of wanted) {
    db.transaction(() => {
      if (isApplied.get(migration.version)) return;
      db.exec(migration.sql);
      markApplied.run(migration.version, migration.name, new Date().toISOString());
    }).immediate();
  }
}

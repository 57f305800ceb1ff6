import type { ClientBase } from 'pg';
import { AUDIENCE_HEARD_TABLE, MARK_FEEDS_FOR_REPUBLICATION, markFeedsForRepublicationAgain, REMEMBER_WHAT_PARTNERS_HEARD } from '../read-model-storage';

interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Append-only: a shipped migration is never edited, a change is a new version. Tables are
 * prefixed `rm_` and live in the connection's current schema, next to (or apart from) the event
 * store's. Instants are timestamptz so SQL consumers can compare them with now().
 */
/**
 * Empties the tables and rewinds the checkpoint: the read models rebuild from the log at the next
 * start. What a version that decides differently ships, so stored rows never disagree with it.
 */
export const REBUILD = `
      TRUNCATE rm_subjects, rm_decisions, rm_suppressions, rm_audience_members;
      UPDATE rm_checkpoints SET position = 0 WHERE name = 'read-models';
`;

const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'subject ledgers, current decisions, channel suppressions, audience membership, checkpoints, leases, state-change outbox',
    sql: `
      CREATE TABLE rm_checkpoints (name text PRIMARY KEY, position bigint NOT NULL);
      INSERT INTO rm_checkpoints (name, position) VALUES ('read-models', 0);
      CREATE TABLE rm_subjects (
        subject_id text PRIMARY KEY,
        brand text NOT NULL,
        ledger text NOT NULL,
        last_position bigint NOT NULL,
        last_occurred_at timestamptz NOT NULL,
        evaluated_at timestamptz NOT NULL,
        next_change_at timestamptz,
        erased boolean NOT NULL
      );
      CREATE INDEX rm_subjects_next_change ON rm_subjects (next_change_at) WHERE next_change_at IS NOT NULL;
      CREATE TABLE rm_decisions (
        subject_id text NOT NULL,
        purpose text NOT NULL,
        allowed boolean NOT NULL,
        reason text NOT NULL,
        legal_basis text NOT NULL,
        valid_until timestamptz,
        based_on jsonb NOT NULL,
        consented_channels text[] NOT NULL,
        restricted_channels text[] NOT NULL,
        opted_out_sources text[] NOT NULL,
        changes_at timestamptz,
        PRIMARY KEY (subject_id, purpose)
      );
      CREATE INDEX rm_decisions_by_purpose ON rm_decisions (purpose, allowed);
      CREATE TABLE rm_suppressions (
        channel text NOT NULL,
        subject_id text NOT NULL,
        scope text NOT NULL,
        reason text NOT NULL,
        since timestamptz NOT NULL,
        PRIMARY KEY (channel, subject_id, scope, reason)
      );
      CREATE INDEX rm_suppressions_by_subject ON rm_suppressions (subject_id);
      CREATE TABLE rm_audience_members (
        audience text NOT NULL,
        subject_id text NOT NULL,
        member boolean NOT NULL,
        since timestamptz NOT NULL,
        valid_until timestamptz,
        changed_at_position bigint NOT NULL,
        PRIMARY KEY (audience, subject_id)
      );
      CREATE INDEX rm_audience_members_by_subject ON rm_audience_members (subject_id);
      CREATE TABLE rm_state_changes (
        sequence bigserial PRIMARY KEY,
        subject_id text NOT NULL,
        changed_at timestamptz NOT NULL
      );
      CREATE TABLE rm_leases (role text PRIMARY KEY, holder text NOT NULL, expires_at timestamptz NOT NULL);
    `,
  },
  {
    version: 2,
    name: 'per-purpose expiries on subjects (lets an event re-evaluate only the purposes it touches); the read models rebuild',
    sql: `
      ALTER TABLE rm_subjects ADD COLUMN expiries text NOT NULL DEFAULT '{}';
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
    sql: `ALTER TABLE rm_decisions ADD COLUMN channels text[];`,
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
      ALTER TABLE rm_state_changes ADD COLUMN feed text;
      ALTER TABLE rm_state_changes ADD COLUMN audiences text;
    `,
  },
  {
    version: 8,
    name: 'a republication goes into the outbox a page of subjects at a time: its marker keeps the last subject queued, so a restart goes on after it',
    sql: `ALTER TABLE rm_checkpoints ADD COLUMN queued_up_to text;`,
  },
  {
    version: 9,
    name: 'the catalogue rules the rows were decided under; an edited catalogue rebuilds them and the feeds publish every subject again',
    sql: `CREATE TABLE rm_catalogue (only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row), version text NOT NULL, digest text NOT NULL, recorded_at timestamptz NOT NULL);`,
  },
  {
    version: 10,
    name: 'decisions changed (a former customer recorded again as a prospect stays one; a consent to a customer-only purpose ends with the contract it was given under; a purpose asked without a source is denied once every source it uses is opted out; audiences are decided for the brands of their purposes, and the brand of a subject is that of a running relationship before one that ended; an erased subject keeps no pending change from the consents its erasure stopped; a consent given after an objection to direct marketing counts for its purpose, on the channels it covers; a customer-only consent recorded for a brand the subject had no running contract with ends with the contract of another brand; only the first end of a contract ends the consents given under it); the read models rebuild and the feeds publish every subject again',
    sql: `
      ${markFeedsForRepublicationAgain('GREATEST')}
      ${REBUILD}
    `,
  },
  {
    version: 11,
    name: 'decisions changed (a relationship is replayed from every start and end in the person\'s order, prospects included, so late paperwork gives the same relationship in any arrival order, and at one instant an end before a start; an end while nothing ran ends nothing, also as of an instant before the start it belongs to; a customer\'s dates come from the contract history; a decision denied for another reason is looked at again when the subject leaves the purpose\'s audience); the read models rebuild and the feeds publish every subject again',
    sql: `
      ${markFeedsForRepublicationAgain('GREATEST')}
      ${REBUILD}
    `,
  },
  {
    version: 12,
    name: 'subjects are looked at again when a decision of another brand of theirs changes in time (a former customer of one brand who is a customer of the other), so the other brands on the state topic follow; the read models rebuild and the feeds publish every subject again',
    sql: `
      ${markFeedsForRepublicationAgain('GREATEST')}
      ${REBUILD}
    `,
  },
  {
    version: 13,
    name: 'decisions changed (an objection is replayed from every objection, withdrawal and review in the instants\' order, so a review answers the objection raised at its own instant, whichever reached the ledger first; stored ledgers keep that history, snapshot format 3; a purpose that also reaches users, visitors or callers stops for a former customer once the window it declares for them closes; a purpose excluded for a brand is denied to a subject whose only running contracts are with that brand, whatever brand the question names; a channel restricted for every purpose stops only what the person may object to at will, marketing); the checkpoint records the id of the event it is at, so read models built from another log (a backup restored) are told and rebuilt; the read models rebuild and the feeds publish every subject again',
    sql: `
      ALTER TABLE rm_checkpoints ADD COLUMN event_id text;
      ${markFeedsForRepublicationAgain('GREATEST')}
      ${REBUILD}
    `,
  },
  {
    version: 14,
    name: "decisions changed (a channel restricted for every purpose stops marketing, the purposes a group objection reaches without justification, and no longer the app's service notifications nor invitations to market research, which a restriction naming them stops); the read models rebuild and the feeds publish every subject again",
    sql: `
      ${markFeedsForRepublicationAgain('GREATEST')}
      ${REBUILD}
    `,
  },
  {
    version: 15,
    name: 'suppression lists follow a consent given since an objection: on a channel where the person consented to a purpose after objecting to it or to direct marketing, the objection is listed under each purpose it still stops, not under the group; the read models rebuild and the feeds publish every subject again',
    sql: `
      ${markFeedsForRepublicationAgain('GREATEST')}
      ${REBUILD}
    `,
  },
  {
    version: 16,
    name: "decision rows are kept per brand (rm_decisions.brand, part of the key) for the subject's brand and every other it dealt with, a relationship or a choice (rm_subjects.brands): a customer of both brands read as the brand whose contract started last, and the other brand's campaigns lost them; a subject without a relationship keeps the brand of its latest choice when the controller reviews its objection or erases it; the read models rebuild and the feeds publish every subject again",
    // Altered rather than made again: views SQL consumers built on rm_decisions keep working.
    sql: `
      ${markFeedsForRepublicationAgain('GREATEST')}
      ${REBUILD}
      ALTER TABLE rm_subjects ADD COLUMN brands text[] NOT NULL DEFAULT '{}';
      ALTER TABLE rm_decisions ADD COLUMN brand text NOT NULL;
      ALTER TABLE rm_decisions DROP CONSTRAINT rm_decisions_pkey;
      ALTER TABLE rm_decisions ADD PRIMARY KEY (subject_id, brand, purpose);
      DROP INDEX rm_decisions_by_purpose;
      CREATE INDEX rm_decisions_by_purpose ON rm_decisions (purpose, brand, allowed);
    `,
  },
];

/**
 * Brings the schema up to date (or to `lastVersion`: the schema an earlier version left, which a
 * test upgrades); a transaction-scoped advisory lock keeps concurrent starters in line.
 */
export async function migratePostgresReadModels(client: ClientBase, lastVersion = Infinity): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':read-model-migrations'))`);
    await client.query(`CREATE TABLE IF NOT EXISTS rm_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM rm_schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    // Pending migrations rebuild, and the audience rows (from migration 1 on) go with them.
    const due = migrations.filter((migration) => migration.version <= lastVersion && !applied.has(migration.version));
    await client.query(applied.has(1) && due.length > 0 ? REMEMBER_WHAT_PARTNERS_HEARD : AUDIENCE_HEARD_TABLE);
    for (const migration of due) {
      await client.query(migration.sql);
      await client.query('INSERT INTO rm_schema_migrations (version, name, applied_at) VALUES ($1, $2, now())', [migration.version, migration.name]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

import type { ClientBase } from 'pg';

interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** SQLSTATE of `stream_heads_moved()`: not an error of the append, a sign to take the slower path. */
export const STREAM_HEADS_MOVED = 'CL409';

/** First key of every advisory lock this store takes; the second key names what is locked. */
export const ADVISORY_LOCK_SPACE = 0x0c1e;

/**
 * Append-only list: a shipped migration is never edited, a change is a new version.
 *
 * `event_positions` is the one-row counter that hands out global positions inside the append
 * transaction; its row lock, held until COMMIT, is what makes position order equal commit order
 * (ADR 0002). `streams` holds each stream's head: the row an append locks for its concurrency
 * check, and the anchor `verify` compares the chain against.
 *
 * Stream names and event ids are identifiers, compared byte for byte (`COLLATE "C"`): their
 * indexes are touched by every append, and a linguistic collation only makes that slower.
 *
 * `data` and `metadata` are `json`, not `jsonb`: PostgreSQL keeps the exact text that was written
 * (and hashed) and hands it back without re-serialising, which is what makes replay fast. Nothing
 * queries inside events in SQL; the read models answer the questions.
 */
const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events, stream heads, position counter and removal records',
    sql: `
      CREATE TABLE event_positions (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        last_position bigint NOT NULL
      );
      INSERT INTO event_positions (last_position) VALUES (0);

      CREATE TABLE streams (
        stream_name text COLLATE "C" PRIMARY KEY,
        head_revision integer NOT NULL,
        head_hash text NOT NULL
      );

      CREATE TABLE events (
        position bigint PRIMARY KEY,
        stream_name text COLLATE "C" NOT NULL,
        revision integer NOT NULL,
        event_id text COLLATE "C" NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        data json NOT NULL,
        metadata json NOT NULL,
        recorded_at timestamptz NOT NULL,
        hash text NOT NULL,
        previous_hash text NOT NULL,
        CONSTRAINT events_event_id_unique UNIQUE (event_id),
        CONSTRAINT events_stream_revision_unique UNIQUE (stream_name, revision)
      );

      CREATE TABLE stream_removals (
        sequence integer PRIMARY KEY,
        stream_name text NOT NULL,
        last_revision integer NOT NULL,
        positions bigint[] NOT NULL,
        last_hash text NOT NULL,
        reason text NOT NULL,
        removed_at text NOT NULL,
        previous_hash text NOT NULL,
        hash text NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'a signal for appends written in one statement',
    // Raised from inside the one-statement append when a stream head is not where its writer
    // expected: the whole statement rolls back, and the writer takes the transaction path.
    sql: `
      CREATE FUNCTION stream_heads_moved() RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        RAISE EXCEPTION 'a stream head moved since its writer read it' USING ERRCODE = '${STREAM_HEADS_MOVED}';
      END $$;
    `,
  },
  {
    version: 3,
    name: 'removal details, and removals found by stream',
    // `readRemovals` asks for one stream's records on every subject export and history; without
    // the index that reads every removal ever made. Records written before have no details (NULL).
    // The index is built inside the migration's transaction: a few seconds for millions of records,
    // blocking only removals meanwhile, which is why it is not CONCURRENTLY.
    sql: `
      ALTER TABLE stream_removals ADD COLUMN details json;
      CREATE INDEX stream_removals_by_stream ON stream_removals (stream_name);
    `,
  },
];

/**
 * Runs the pending migrations, each in its own transaction. A session advisory lock (per schema)
 * makes a second process that starts at the same moment wait, then find nothing left to do.
 */
export async function migratePostgresSchema(client: ClientBase): Promise<void> {
  // Another starter may hold the lock for as long as its migration takes: wait, whatever the
  // session's lock_timeout (which is there for requests, not for start-up).
  await client.query('SET lock_timeout = 0');
  await client.query('SELECT pg_advisory_lock($1, hashtext(current_schema()))', [ADVISORY_LOCK_SPACE]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, hashtext(current_schema()))', [ADVISORY_LOCK_SPACE]).catch(() => undefined);
    await client.query('RESET lock_timeout').catch(() => undefined);
  }
}

import type { ClientBase, Pool, QueryConfig } from 'pg';
import { EMPTY_STREAM_HEAD, planGroup, settleGroup, type GroupPlan, type StoredEventLocation, type StreamHead } from '../append-planning';
import type { AppendRequest } from '../append-request';
import { AppendOutcomeUnknown, StreamRevisionConflict } from '../errors';
import { GENESIS_HASH, type AppendResult, type GlobalPosition } from '../event-store.port';
import { withAnswerTimeout } from './answer-timeout';
import { isConnectionFailure } from './postgres-errors';
import { checkOutClient } from './pool-clients';

export interface GroupAppendSettings {
  /** Off only in tests: positions then come from a plain sequence, the classic out-of-order bug. */
  readonly orderingProtection: boolean;
  readonly notifyChannel: string;
  /** Test seam: runs after the events are written, while the transaction (and its locks) is open. */
  readonly beforeCommit?: () => Promise<void>;
  /** How long each statement waits for its answer (see answer-timeout.ts); undefined: as long as it takes. */
  readonly answerTimeoutMs?: number;
}

export interface GroupAppendOutcome {
  readonly outcomes: Array<AppendResult | Error>;
  readonly wroteEvents: boolean;
  /** The heads of the streams written to, as the transaction left them. */
  readonly newHeads: ReadonlyMap<string, StreamHead>;
}

/** Name of the sequence the unprotected test mode takes positions from. */
export const UNPROTECTED_POSITION_SEQUENCE = 'event_positions_unprotected_for_tests';

/**
 * One round trip before the write: locks the `streams` rows of the group (the SELECT ... FOR UPDATE
 * of the design, in name order so two processes never wait on each other in a cycle) and looks up
 * the group's event ids. Heads come from the latest committed row versions, even after a lock wait.
 *
 * The id lookup shares the statement's snapshot, taken before any lock wait; an event committed
 * meanwhile by the lock holder is caught later (see `appendGroup`).
 */
export const LOCK_STREAMS_AND_LOCATE_IDS = `
  WITH locked AS (
    SELECT stream_name, head_revision, head_hash FROM streams
    WHERE stream_name = ANY($1::text[]) ORDER BY stream_name FOR UPDATE
  )
  SELECT stream_name, head_revision AS revision, head_hash, NULL::text AS event_id, NULL::text AS position FROM locked
  UNION ALL
  SELECT stream_name, revision, NULL, event_id, position::text FROM events WHERE event_id = ANY($2::text[])`;

/**
 * Streams written for the first time get a placeholder row (revision -1) that is locked like the
 * others. The upsert also locks a row another process created since the first statement's snapshot.
 */
const CREATE_AND_LOCK_STREAMS = `
  INSERT INTO streams (stream_name, head_revision, head_hash)
  SELECT name, -1, $2 FROM unnest($1::text[]) AS name
  ON CONFLICT (stream_name) DO UPDATE SET head_revision = streams.head_revision
  RETURNING stream_name, head_revision AS revision, head_hash`;

const LOCATE_EVENT_IDS = `
  SELECT stream_name, revision, NULL::text AS head_hash, event_id, position::text AS position FROM events WHERE event_id = ANY($1::text[])`;

interface LockedRow {
  stream_name: string;
  revision: number;
  head_hash: string | null;
  event_id: string | null;
  position: string | null;
}

const ROW_COLUMNS = `stream_name text, revision integer, event_id text, type text, schema_version integer,
  data json, metadata json, recorded_at timestamptz, hash text, previous_hash text, ordinal integer`;

/** `= ANY(names)` finds the rows by index whatever the table's statistics (see WRITE_WITH_KNOWN_HEADS). */
const updateHeadsFrom = (heads: string, names: string) => `
  UPDATE streams SET head_revision = head.revision, head_hash = head.hash
  FROM json_to_recordset(${heads}::json) AS head(stream_name text, revision integer, hash text)
  WHERE streams.stream_name = ANY(${names}::text[]) AND streams.stream_name = head.stream_name
  RETURNING 1`;

/** The rows of `$1` at the positions after `allocated.before`, the counter's value before the group. */
const INSERT_AT_ALLOCATED_POSITIONS = `
    INSERT INTO events (position, stream_name, revision, event_id, type, schema_version, data, metadata, recorded_at, hash, previous_hash)
    SELECT allocated.before + row.ordinal, row.stream_name, row.revision, row.event_id, row.type, row.schema_version,
           row.data, row.metadata, row.recorded_at, row.hash, row.previous_hash
    FROM allocated, json_to_recordset($1::json) AS row(${ROW_COLUMNS})
    RETURNING 1`;

/**
 * The last statement of the transaction: takes the positions from the counter row and writes
 * everything. The counter's row lock is taken this late on purpose and held until COMMIT, so the
 * next transaction gets its positions only once this one is visible: dense positions, commit order.
 */
export const WRITE_WITH_COUNTER = `
  WITH allocated AS (
    UPDATE event_positions SET last_position = last_position + $2 RETURNING last_position - $2 AS before
  ), inserted AS (${INSERT_AT_ALLOCATED_POSITIONS}), heads AS (${updateHeadsFrom('$3', '$5')})
  SELECT before::text AS before, pg_notify($4, (before + $2)::text) FROM allocated`;

const WRITE_WITH_SEQUENCE = `
  WITH inserted AS (
    INSERT INTO events (position, stream_name, revision, event_id, type, schema_version, data, metadata, recorded_at, hash, previous_hash)
    SELECT nextval('${UNPROTECTED_POSITION_SEQUENCE}'), row.stream_name, row.revision, row.event_id, row.type, row.schema_version,
           row.data, row.metadata, row.recorded_at, row.hash, row.previous_hash
    FROM (SELECT * FROM json_to_recordset($1::json) AS row(${ROW_COLUMNS}) ORDER BY row.ordinal) AS row
    RETURNING event_id, position
  ), heads AS (${updateHeadsFrom('$2', '$4')})
  SELECT event_id, position::text AS position, pg_notify($3, '') FROM inserted`;

/**
 * A whole group in one autocommit statement, for appends whose stream heads the writer already
 * knows: it moves each head from the expected one (or creates the stream), takes positions from
 * the counter, writes the events and commits, in one round trip. The counter's row lock is then
 * held only while the statement inserts and commits, not across round trips to the client.
 * When a head is not where the writer expected, `stream_heads_moved()` raises and the statement
 * leaves nothing behind; a reused event id fails on its unique index the same way.
 *
 * Streams are found by `= ANY($5)`, never by joining the JSON: a join's plan depends on table
 * statistics, and a plan made while the table was small (a prepared statement keeps it) scanned
 * the whole table on every append once it had grown.
 */
export const WRITE_WITH_KNOWN_HEADS = `
  WITH expected AS (
    SELECT * FROM json_to_recordset($3::json) AS head(stream_name text, revision integer, hash text, new_revision integer, new_hash text)
  ), locked AS (
    SELECT stream_name FROM streams WHERE stream_name = ANY($5::text[]) ORDER BY stream_name FOR UPDATE
  ), moved AS (
    UPDATE streams SET head_revision = expected.new_revision, head_hash = expected.new_hash
    FROM expected
    WHERE streams.stream_name = ANY($5::text[]) AND streams.stream_name IN (SELECT stream_name FROM locked)
      AND streams.stream_name = expected.stream_name AND streams.head_revision = expected.revision AND streams.head_hash = expected.hash
    RETURNING 1
  ), created AS (
    INSERT INTO streams (stream_name, head_revision, head_hash)
    SELECT stream_name, new_revision, new_hash FROM expected WHERE revision = -1
    ON CONFLICT (stream_name) DO NOTHING
    RETURNING 1
  ), allocated AS (
    UPDATE event_positions SET last_position = last_position + $2
    WHERE CASE WHEN (SELECT count(*) FROM moved) + (SELECT count(*) FROM created) = (SELECT count(*) FROM expected) THEN true
               ELSE stream_heads_moved() END
    RETURNING last_position - $2 AS before
  ), inserted AS (${INSERT_AT_ALLOCATED_POSITIONS})
  SELECT before::text AS before, pg_notify($4, (before + $2)::text) FROM allocated`;

export interface OneStatementAppend {
  readonly outcomes: Array<AppendResult | Error>;
  readonly newHeads: ReadonlyMap<string, StreamHead>;
}

/**
 * The one statement was sent and its connection lost or its answer late (`cause`): unlike a moved
 * head or another refusal, which write nothing, it may have been committed first.
 */
export class OneStatementLost extends Error {
  constructor(override readonly cause: unknown) {
    super(`the connection of a one-statement append was lost: ${(cause as Error)?.message}`);
    this.name = 'OneStatementLost';
  }
}

/**
 * Writes the group in one statement when every stream's head is known (a new stream's is) and
 * every append fits it; answers `undefined` without touching the database otherwise. Throws
 * when the statement fails, a moved head included (nothing was written), OneStatementLost when
 * it was sent and lost (it may have been), or when no connection was had: the transaction path
 * (`appendGroup`) can take the group.
 */
export async function appendGroupInOneStatement(
  pool: Pool,
  group: readonly AppendRequest[],
  knownHead: (streamName: string) => StreamHead | undefined,
  notifyChannel: string,
  answerTimeoutMs?: number,
): Promise<OneStatementAppend | undefined> {
  const heads = new Map<string, StreamHead>();
  for (const { streamName, expectedRevision } of group) {
    if (heads.has(streamName)) continue;
    const head = expectedRevision === 'no-stream' || expectedRevision === -1 ? EMPTY_STREAM_HEAD : knownHead(streamName);
    if (head === undefined) return undefined;
    heads.set(streamName, head);
  }
  const plan = planGroup(group, heads, new Map(), new Date().toISOString());
  if (plan.outcomes.some((outcome) => outcome.kind !== 'write')) return undefined;

  const expected = JSON.stringify(
    [...heads].map(([streamName, head]) => {
      const next = plan.newHeads.get(streamName)!;
      return { stream_name: streamName, revision: head.revision, hash: head.hash, new_revision: next.revision, new_hash: next.hash };
    }),
  );
  const client = await checkOutClient(pool);
  let written: Array<{ before: string }>;
  try {
    ({ rows: written } = await client.query<{ before: string }>(
      withAnswerTimeout(
        {
          name: 'event-store-write-with-known-heads',
          text: WRITE_WITH_KNOWN_HEADS,
          values: [rowsJson(plan), plan.rows.length, expected, notifyChannel, [...heads.keys()]],
        },
        answerTimeoutMs,
      ),
    ));
    client.release();
  } catch (error) {
    const isLost = isConnectionFailure(error);
    client.release(isLost);
    throw isLost ? new OneStatementLost(error) : error;
  }
  const before = BigInt(written[0].before);
  return { outcomes: settleGroup(plan, plan.rows.map((_, index) => before + BigInt(index + 1))), newHeads: plan.newHeads };
}

/**
 * Writes one group of appends in one transaction on `client` and commits. Nothing is answered
 * before COMMIT returns. Throws when the transaction fails; the caller rolls back and decides
 * whether to retry the group. A COMMIT sent and not answered (a connection lost, no answer in
 * time) throws AppendOutcomeUnknown: the group may have been committed.
 */
export async function appendGroup(
  client: ClientBase,
  group: readonly AppendRequest[],
  settings: GroupAppendSettings,
): Promise<GroupAppendOutcome> {
  const timed = <Query extends QueryConfig<any>>(query: Query) => withAnswerTimeout(query, settings.answerTimeoutMs);
  await client.query(timed({ text: 'BEGIN' }));
  const streamNames = [...new Set(group.map((request) => request.streamName))].sort();
  const eventIds = group.flatMap((request) => request.events.map((event) => event.eventId));
  const { rows: locked } = await client.query<LockedRow>(
    timed({
      name: 'event-store-lock-streams',
      text: LOCK_STREAMS_AND_LOCATE_IDS,
      values: [streamNames, eventIds],
    }),
  );
  const heads = new Map<string, StreamHead>();
  const stored = new Map<string, StoredEventLocation>();
  for (const row of locked) {
    if (row.event_id === null) heads.set(row.stream_name, { revision: row.revision, hash: row.head_hash! });
    else stored.set(row.event_id, toLocation(row));
  }
  const newStreams = streamNames.filter((name) => !heads.has(name));
  if (newStreams.length > 0) {
    const { rows: created } = await client.query<LockedRow>(timed({ text: CREATE_AND_LOCK_STREAMS, values: [newStreams, GENESIS_HASH] }));
    for (const row of created) heads.set(row.stream_name, { revision: row.revision, hash: row.head_hash! });
  }

  const recordedAt = new Date().toISOString();
  let plan = planGroup(group, heads, stored, recordedAt);
  // A revision conflict may be a retry racing with its original, committed by the lock holder
  // after this statement's snapshot: look the ids up again, now under the locks, before answering.
  if (plan.outcomes.some((outcome) => outcome.kind === 'rejected' && outcome.error instanceof StreamRevisionConflict)) {
    const { rows: found } = await client.query<LockedRow>(timed({ text: LOCATE_EVENT_IDS, values: [eventIds] }));
    if (found.some((row) => !stored.has(row.event_id!))) {
      for (const row of found) stored.set(row.event_id!, toLocation(row));
      plan = planGroup(group, heads, stored, recordedAt);
    }
  }
  if (plan.rows.length === 0) {
    await client.query(timed({ text: 'ROLLBACK' }));
    return { outcomes: settleGroup(plan, []), wroteEvents: false, newHeads: plan.newHeads };
  }

  const unusedPlaceholders = streamNames.filter((name) => heads.get(name)!.revision === -1 && !plan.newHeads.has(name));
  if (unusedPlaceholders.length > 0) {
    await client.query(timed({ text: 'DELETE FROM streams WHERE stream_name = ANY($1::text[]) AND head_revision = -1', values: [unusedPlaceholders] }));
  }

  const positions = await writeRows(client, plan, settings);
  await settings.beforeCommit?.();
  try {
    await client.query(timed({ text: 'COMMIT' }));
  } catch (error) {
    if (isConnectionFailure(error)) throw new AppendOutcomeUnknown(`PostgreSQL did not answer the COMMIT of an append: ${(error as Error).message}`, error);
    throw error;
  }
  return { outcomes: settleGroup(plan, positions), wroteEvents: true, newHeads: plan.newHeads };
}

function toLocation(row: LockedRow): StoredEventLocation {
  return { streamName: row.stream_name, revision: row.revision, position: BigInt(row.position!) };
}

async function writeRows(client: ClientBase, plan: GroupPlan, settings: GroupAppendSettings): Promise<GlobalPosition[]> {
  const rows = rowsJson(plan);
  const heads = JSON.stringify([...plan.newHeads].map(([streamName, head]) => ({ stream_name: streamName, revision: head.revision, hash: head.hash })));
  const names = [...plan.newHeads.keys()];
  if (settings.orderingProtection) {
    const { rows: written } = await client.query<{ before: string }>(
      withAnswerTimeout(
        {
          name: 'event-store-write-events',
          text: WRITE_WITH_COUNTER,
          values: [rows, plan.rows.length, heads, settings.notifyChannel, names],
        },
        settings.answerTimeoutMs,
      ),
    );
    const before = BigInt(written[0].before);
    return plan.rows.map((_, index) => before + BigInt(index + 1));
  }
  const { rows: written } = await client.query<{ event_id: string; position: string }>(
    withAnswerTimeout({ text: WRITE_WITH_SEQUENCE, values: [rows, heads, settings.notifyChannel, names] }, settings.answerTimeoutMs),
  );
  const positionOf = new Map(written.map((row) => [row.event_id, BigInt(row.position)]));
  return plan.rows.map((row) => positionOf.get(row.eventId)!);
}

/**
 * The rows as one JSON document, built as text so data and metadata go in as their canonical
 * JSON: the `json` columns keep it byte for byte, and verify can hash it as read.
 */
function rowsJson(plan: GroupPlan): string {
  return `[${plan.rows
    .map(
      (row, index) =>
        `{"stream_name":${JSON.stringify(row.streamName)},"revision":${row.revision},"event_id":${JSON.stringify(row.eventId)},` +
        `"type":${JSON.stringify(row.type)},"schema_version":${row.schemaVersion},"data":${row.dataJson},"metadata":${row.metadataJson},` +
        `"recorded_at":${JSON.stringify(row.recordedAt)},"hash":${JSON.stringify(row.hash)},"previous_hash":${JSON.stringify(row.previousHash)},` +
        `"ordinal":${index + 1}}`,
    )
    .join(',')}]`;
}

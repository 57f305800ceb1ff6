import type { ClientBase, Pool } from 'pg';
import type { StoredEvent } from '../event-store.port';
import type { StoredEventText } from '../integrity-check';
import { withAnswerTimeout } from './answer-timeout';

type EventRow = [
  position: string,
  streamName: string,
  revision: string,
  eventId: string,
  type: string,
  schemaVersion: string,
  data: string,
  metadata: string,
  recordedAt: string,
  hash: string,
  previousHash: string,
];

// recorded_at comes back already in the ISO form it was hashed in; a Date per event was the
// largest cost of decoding a replayed page.
const EVENT_COLUMNS = `position, stream_name, revision, event_id, type, schema_version, data, metadata,
  to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), hash, previous_hash`;

/** Every column as the text PostgreSQL sent: parsed once below, not by a type parser per column. */
const AS_TEXT = { getTypeParser: () => (value: string) => value };

/**
 * Each wanted stream's events from its revision on, read with the (stream_name, revision) index.
 * `OFFSET 0` keeps the planner from turning the LATERAL into a join, whose plan would depend on
 * table statistics (a plan made on a small table scans the whole table once it has grown).
 */
export const STREAMS_FROM_REVISIONS = `unnest($1::text[], $2::int[]) AS wanted(wanted_stream, from_revision)
  CROSS JOIN LATERAL (SELECT * FROM events WHERE stream_name = wanted.wanted_stream AND revision >= wanted.from_revision OFFSET 0) AS events`;

/**
 * Reads events chosen by a WHERE clause, in the given order and limit, from the events table or
 * from `source`, waiting at most `answerTimeoutMs` for them (see answer-timeout.ts). Rows come
 * back as arrays of text, which keeps replay cheap for Node and for PostgreSQL alike.
 */
export async function selectEvents(
  database: Pool | ClientBase,
  where: string,
  order: 'position' | 'revision' | 'revision DESC' | 'stream_name, revision',
  limit: string,
  values: unknown[],
  source: 'events' | typeof STREAMS_FROM_REVISIONS = 'events',
  answerTimeoutMs?: number,
): Promise<StoredEvent[]> {
  const rows = await selectRows(database, source, where, order, limit, values, answerTimeoutMs);
  // Built field by field, not spread from a shared shape: this is replay's hot loop.
  return rows.map((row) => ({
    streamName: row[1],
    revision: Number(row[2]),
    position: BigInt(row[0]),
    eventId: row[3],
    type: row[4],
    schemaVersion: Number(row[5]),
    data: JSON.parse(row[6]) as Record<string, unknown>,
    metadata: JSON.parse(row[7]) as Record<string, unknown>,
    recordedAt: row[8],
    hash: row[9],
    previousHash: row[10],
  }));
}

/** For verify: data and metadata as the exact text the `json` columns keep, hashed without parsing. */
export async function selectEventTexts(
  database: Pool | ClientBase,
  where: string,
  order: 'position' | 'revision',
  limit: string,
  values: unknown[],
): Promise<StoredEventText[]> {
  const rows = await selectRows(database, 'events', where, order, limit, values);
  return rows.map((row) => ({
    streamName: row[1],
    revision: Number(row[2]),
    position: BigInt(row[0]),
    eventId: row[3],
    type: row[4],
    schemaVersion: Number(row[5]),
    dataJson: row[6],
    metadataJson: row[7],
    recordedAt: row[8],
    hash: row[9],
    previousHash: row[10],
  }));
}

async function selectRows(
  database: Pool | ClientBase,
  source: string,
  where: string,
  order: string,
  limit: string,
  values: unknown[],
  answerTimeoutMs?: number,
): Promise<EventRow[]> {
  const { rows } = await database.query<EventRow>(
    withAnswerTimeout(
      {
        text: `SELECT ${EVENT_COLUMNS} FROM ${source} WHERE ${where} ORDER BY ${order} LIMIT ${limit}`,
        values,
        rowMode: 'array' as const,
        types: AS_TEXT,
      },
      answerTimeoutMs,
    ),
  );
  return rows;
}

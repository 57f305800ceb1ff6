import Database from 'better-sqlite3';
import { Client } from 'pg';
import { withClient } from '../../support/services';

/** Edits of the event store's rows behind its back, as someone with write access to the database could make. */
export interface RawTampering {
  /** UPDATE of one event's data (its purpose), the hash left as it was. */
  editData(streamName: string, revision: number): Promise<void>;
  /** UPDATE of one event's `capture.occurredAt`, the hash left as it was: a quieter edit, every field still valid. */
  editOccurredAt(streamName: string, revision: number, occurredAt: string): Promise<void>;
  /** DELETE of one event row. */
  deleteRow(streamName: string, revision: number): Promise<void>;
  /** Swaps the global positions of two events of one stream, so the later one comes first. */
  swapPositions(streamName: string, revisionA: number, revisionB: number): Promise<void>;
}

export function sqliteTampering(file: string): RawTampering {
  const withDatabase = async (work: (db: Database.Database) => void) => {
    const db = new Database(file);
    try {
      db.transaction(() => work(db)).immediate();
    } finally {
      db.close();
    }
  };
  return {
    editData: (streamName, revision) =>
      withDatabase((db) =>
        db.prepare(`UPDATE events SET data = json_set(data, '$.purpose', 'selling-data-to-anyone') WHERE stream_name = ? AND revision = ?`).run(streamName, revision),
      ),
    editOccurredAt: (streamName, revision, occurredAt) =>
      withDatabase((db) =>
        db.prepare(`UPDATE events SET data = json_set(data, '$.capture.occurredAt', ?) WHERE stream_name = ? AND revision = ?`).run(occurredAt, streamName, revision),
      ),
    deleteRow: (streamName, revision) => withDatabase((db) => db.prepare('DELETE FROM events WHERE stream_name = ? AND revision = ?').run(streamName, revision)),
    swapPositions: (streamName, a, b) =>
      withDatabase((db) => {
        const positionOf = (revision: number) =>
          (db.prepare('SELECT position FROM events WHERE stream_name = ? AND revision = ?').get(streamName, revision) as { position: number }).position;
        const [pa, pb] = [positionOf(a), positionOf(b)];
        const move = db.prepare('UPDATE events SET position = ? WHERE position = ?');
        move.run(-1, pa);
        move.run(pa, pb);
        move.run(pb, -1);
      }),
  };
}

export function postgresTampering(url: string): RawTampering {
  const inTransaction = (work: (client: Client) => Promise<unknown>) =>
    withClient(url, async (client) => {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    });
  return {
    editData: (streamName, revision) =>
      inTransaction(async (client) => {
        // The store keeps data as json or jsonb; the edit goes through jsonb and back to whichever it is.
        const { rows } = await client.query<{ type: string }>(
          "SELECT data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'events' AND column_name = 'data'",
        );
        await client.query(
          `UPDATE events SET data = jsonb_set(data::jsonb, '{purpose}', '"selling-data-to-anyone"')::${rows[0].type === 'json' ? 'json' : 'jsonb'} WHERE stream_name = $1 AND revision = $2`,
          [streamName, revision],
        );
      }),
    editOccurredAt: (streamName, revision, occurredAt) =>
      inTransaction(async (client) => {
        const { rows } = await client.query<{ type: string }>(
          "SELECT data_type AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'events' AND column_name = 'data'",
        );
        await client.query(
          `UPDATE events SET data = jsonb_set(data::jsonb, '{capture,occurredAt}', to_jsonb($3::text))::${rows[0].type === 'json' ? 'json' : 'jsonb'} WHERE stream_name = $1 AND revision = $2`,
          [streamName, revision, occurredAt],
        );
      }),
    deleteRow: (streamName, revision) => inTransaction((client) => client.query('DELETE FROM events WHERE stream_name = $1 AND revision = $2', [streamName, revision])),
    swapPositions: (streamName, a, b) =>
      inTransaction(async (client) => {
        const { rows } = await client.query<{ revision: number; position: string }>(
          'SELECT revision, position FROM events WHERE stream_name = $1 AND revision = ANY($2)',
          [streamName, [a, b]],
        );
        const pa = rows.find((row) => row.revision === a)!.position;
        const pb = rows.find((row) => row.revision === b)!.position;
        await client.query('UPDATE events SET position = -1 WHERE position = $1', [pa]);
        await client.query('UPDATE events SET position = $1 WHERE position = $2', [pa, pb]);
        await client.query('UPDATE events SET position = $1 WHERE position = -1', [pb]);
      }),
  };
}

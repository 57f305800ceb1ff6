import { withSessionSetting } from '@consent-ledger/event-store';
import { Client } from 'pg';

/** The database benchmarks run against; each makes a schema of its own there and drops it after. */
export const benchDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One short-lived connection for setup and reporting queries, closed whatever happens. */
export async function onDatabase<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The connection string whose search_path is `schema`. */
export function schemaUrl(url: string, schema: string): string {
  const withSchema = withSessionSetting(url, 'search_path', schema);
  if (withSchema === url) throw new Error(`TEST_DATABASE_URL must be a postgres:// URL to choose a schema in: ${url}`);
  return withSchema;
}

/**
 * ANALYZE every table of the schema, as autovacuum would within its next minute. A prepared
 * statement keeps the generic plan it made, and one made while a table held a page or two scans
 * the table whole on every call until the next ANALYZE replans it: a benchmark that fills a fresh
 * schema and measures within that minute times the start-up plan, not the one a grown database
 * runs (bench/projector did: two passes over 4,000 streams per append).
 */
export async function analyzeSchema(url: string, schema: string): Promise<void> {
  await onDatabase(url, async (client) => {
    const { rows } = await client.query<{ name: string }>(
      'SELECT quote_ident(schemaname) || $2 || quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = $1',
      [schema, '.'],
    );
    if (rows.length > 0) await client.query(`ANALYZE ${rows.map((row) => row.name).join(', ')}`);
  });
}

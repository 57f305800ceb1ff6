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

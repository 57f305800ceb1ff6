import type { Pool, PoolClient } from 'pg';

/**
 * A client from the pool whose dying connection cannot crash the process. pg-pool stops listening
 * for a client's `error` events while it is checked out, and node-postgres emits one when the
 * connection dies (a database restart, a cut network), even while the query in flight fails with
 * the same error: with nobody listening, that event is an uncaught exception. The failing query,
 * or the next one, reports the problem; releasing the client stops listening.
 */
export async function checkOutClient(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  const reportedByQueries = () => undefined;
  client.on('error', reportedByQueries);
  const release = client.release;
  client.release = (error?: Error | boolean) => {
    client.removeListener('error', reportedByQueries);
    release(error);
  };
  return client;
}

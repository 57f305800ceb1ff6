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

/**
 * Runs `work` in a transaction on a client of its own, opened by `begin` (which may set local
 * settings or take locks in the same message), committed if it returns, rolled back if it throws.
 */
export async function inTransaction<T>(pool: Pool, begin: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await checkOutClient(pool);
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

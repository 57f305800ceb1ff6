import type { Pool, PoolClient } from 'pg';
import { isConnectionFailure } from './postgres-errors';

/**
 * A client from the pool whose dying connection cannot crash the process. pg-pool stops listening
 * for a client's `error` events while it is checked out, and node-postgres emits one when the
 * connection dies (a database restart, a cut network), even while the query in flight fails with
 * the same error: with nobody listening, that event is an uncaught exception. The failing query,
 * or the next one, reports the problem; releasing the client stops listening.
 *
 * A client released while a statement on it is still unanswered (its answer timed out) is closed,
 * whatever the caller says: given back to the pool, it would hold the next query behind that
 * statement for as long as the network keeps its answer.
 */
export async function checkOutClient(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  const reportedByQueries = () => undefined;
  client.on('error', reportedByQueries);
  const release = client.release;
  client.release = (error?: Error | boolean) => {
    client.removeListener('error', reportedByQueries);
    release(error || isStillAnswering(client));
  };
  return client;
}

/** node-postgres keeps a query active until PostgreSQL says it is ready for the next one. */
const isStillAnswering = (client: PoolClient): boolean =>
  (client as PoolClient & { _getActiveQuery?: () => unknown })._getActiveQuery?.() != null;

/**
 * Runs `work` in a transaction on a client of its own, opened by `begin` (which may set local
 * settings or take locks in the same message), committed if it returns, rolled back if it throws.
 * On a connection lost or left with a statement unanswered, the ROLLBACK would wait behind that
 * statement: the connection is closed instead, which rolls back too.
 */
export async function inTransaction<T>(pool: Pool, begin: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await checkOutClient(pool);
  let isBroken = false;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    isBroken = isConnectionFailure(error);
    if (!isBroken) await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release(isBroken);
  }
}

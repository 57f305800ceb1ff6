import type { Pool, PoolClient, QueryConfig, QueryResult } from 'pg';
import { answeredWithin } from './answer-timeout';
import { isGivenUpByWatch } from './answer-watch';
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
 * statement for as long as the network keeps its answer. Which statements are unanswered is
 * counted here (`trackStatements`), not read from node-postgres's private state, which an upgrade
 * may change without a word. A client whose statement the silence watch gave up (watchAnswers)
 * is closed too: that statement counts as answered here, since its caller was answered, but the
 * watch destroyed its socket, and pg-pool learns of that only once the socket has closed.
 */
export async function checkOutClient(pool: Pool, { waitsForLocks = false }: CheckOut = {}): Promise<PoolClient> {
  const client = waitsForLocks ? await connectAfterLockWaiters(pool) : await pool.connect();
  const reportedByQueries = () => undefined;
  client.on('error', reportedByQueries);
  const statements = trackStatements(client);
  if (waitsForLocks) lockWaitersOf.set(pool, (lockWaitersOf.get(pool) ?? 0) + 1);
  let isReleased = false;
  const release = client.release;
  client.release = (error?: Error | boolean) => {
    if (!isReleased && waitsForLocks) lockWaitersOf.set(pool, (lockWaitersOf.get(pool) ?? 1) - 1);
    isReleased = true;
    client.removeListener('error', reportedByQueries);
    const isStillAnswering = statements.stopTracking() > 0;
    release(error || isStillAnswering || isGivenUpByWatch(client));
  };
  return client;
}

export interface CheckOut {
  /**
   * For work that waits for its locks however long it takes (a key's destruction and its scrub):
   * it waits as long for a connection while every connection of the pool is held by such work.
   * The pool's `connectionTimeoutMillis` then bounds only the wait for a connection being opened
   * or held by other work. Found in review: proof retention destroys a batch of keys at once,
   * more than the pool has connections; behind another process's scrub, the destroys holding the
   * connections waited for their locks, and the others were given up after that timeout.
   */
  readonly waitsForLocks?: boolean;
}

/** Per pool, the connections checked out by work that waits for its locks (CheckOut). */
const lockWaitersOf = new WeakMap<Pool, number>();

async function connectAfterLockWaiters(pool: Pool): Promise<PoolClient> {
  for (;;) {
    try {
      return await pool.connect();
    } catch (error) {
      // pg-pool's message for a wait in its queue, not for a connection that could not be opened.
      const waitedInQueue = (error as Error)?.message === 'timeout exceeded when trying to connect';
      if (!waitedInQueue || (lockWaitersOf.get(pool) ?? 0) < (pool.options.max ?? 10)) throw error;
    }
  }
}

/**
 * Counts the statements sent through `client.query` until their answers arrive, and keeps their
 * answer timeout (`query_timeout`, see withAnswerTimeout) itself: node-postgres's own fails the
 * query at once but gives no sign when the answer does come, so a statement it timed out could not
 * be told from one answered. A query sent without a timeout settles when PostgreSQL answers it or
 * the connection fails, as node-postgres promises; the caller of a timed-out one is answered on
 * time, with node-postgres's error (isAnswerLate), and the statement counts until then.
 * `stopTracking` gives `client.query` back, and tells how many are still unanswered.
 */
function trackStatements(client: PoolClient): { stopTracking(): number } {
  const query = client.query;
  let unanswered = 0;
  const send = (config: unknown, values: unknown): Promise<QueryResult> => {
    const sent = (query as (config: unknown, values?: unknown) => Promise<QueryResult>).call(client, config, values);
    unanswered += 1;
    const answered = () => {
      unanswered -= 1;
    };
    sent.then(answered, answered);
    return sent;
  };
  client.query = ((config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof values === 'function') [values, callback] = [undefined, values];
    // A cursor or stream answers through events of its own: counted as never answered, so its client is closed.
    if (typeof (config as { submit?: unknown })?.submit === 'function') {
      unanswered += 1;
      return (query as (...args: unknown[]) => unknown).call(client, config, values, callback);
    }
    const { query_timeout: timeoutMs, ...untimed } = (typeof config === 'string' ? { text: config } : config) as QueryConfig & { query_timeout?: number };
    const answer = timeoutMs === undefined ? send(untimed, values) : answeredWithin(send(untimed, values), timeoutMs);
    if (typeof callback !== 'function') return answer;
    answer.then((result) => callback(undefined, result), (error: unknown) => callback(error));
    return undefined;
  }) as PoolClient['query'];
  return {
    stopTracking() {
      client.query = query;
      return unanswered;
    },
  };
}

/**
 * Runs `work` in a transaction on a client of its own, opened by `begin` (which may set local
 * settings or take locks in the same message), committed if it returns, rolled back if it throws.
 * On a connection lost or left with a statement unanswered, the ROLLBACK would wait behind that
 * statement: the connection is closed instead, which rolls back too.
 */
export async function inTransaction<T>(pool: Pool, begin: string, work: (client: PoolClient) => Promise<T>, checkOut: CheckOut = {}): Promise<T> {
  const client = await checkOutClient(pool, checkOut);
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

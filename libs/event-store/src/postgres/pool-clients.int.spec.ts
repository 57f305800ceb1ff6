import { Pool } from 'pg';
import { postgresBehindProxy } from '../../../../test/support/postgres-behind-proxy';
import { createTestSchema, describeWithPostgres, withClient } from '../../../../test/support/services';
import { withAnswerTimeout } from './answer-timeout';
import { checkOutClient, inTransaction } from './pool-clients';

describeWithPostgres('a client checked out of the pool', () => {
  it('survives its connection dying between two queries: the next query fails, the process does not', async () => {
    const schema = await createTestSchema('cl_pool');
    const pool = new Pool({ connectionString: schema.url, max: 1 });
    pool.on('error', () => undefined);
    try {
      const client = await checkOutClient(pool);
      const { pid } = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0];
      const ended = new Promise((resolve) => client.once('end', resolve));

      await withClient(schema.url, (other) => other.query('SELECT pg_terminate_backend($1)', [pid]));
      await ended;

      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release();
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await pool.end();
      await schema.drop();
    }
  });

  // Which statements are still unanswered is counted by checkOutClient: counted wrong one way, a
  // connection is closed after every use and each query pays for a new one; the other way, a
  // connection holding a statement goes back to the pool.
  const withOneConnection = async (work: (pool: Pool, backendOf: () => Promise<number>) => Promise<void>) => {
    const schema = await createTestSchema('cl_pool');
    const pool = new Pool({ connectionString: schema.url, max: 1 });
    pool.on('error', () => undefined);
    const backendOf = async () => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    try {
      await work(pool, backendOf);
    } finally {
      await pool.end();
      await schema.drop();
    }
  };

  it('goes back to the pool once every statement sent on it was answered, an error or within its answer timeout', () =>
    withOneConnection(async (pool, backendOf) => {
      const before = await backendOf();
      const client = await checkOutClient(pool);
      await client.query('SELECT 1');
      await expect(client.query('SELECT 1 / 0')).rejects.toThrow('division by zero');
      await client.query(withAnswerTimeout({ text: 'SELECT 1' }, 2000));
      await expect(client.query(withAnswerTimeout({ text: 'SELECT 1 / 0' }, 2000))).rejects.toThrow('division by zero');
      client.release();

      expect(await backendOf()).toBe(before);
    }));

  it('is closed when released before its statement was answered, though it had no answer timeout', () =>
    withOneConnection(async (pool, backendOf) => {
      const before = await backendOf();
      const client = await checkOutClient(pool);
      const sleeping = client.query('SELECT pg_sleep(2)').catch(() => undefined);
      client.release();

      const asked = Date.now();
      expect(await backendOf()).not.toBe(before);
      expect(Date.now() - asked).toBeLessThan(1000);
      await sleeping;
    }));
});

/** TCP's retransmission backoff after a long cut: the connections cut off stay stuck for longer than these tests. */
const RETRANSMISSION_BACKOFF_MS = 120_000;

// node-postgres fails a query whose answer timed out but leaves its connection as it is, the
// statement still unanswered on it: given back to the pool, the connection held the next query
// behind that statement, and a ROLLBACK sent on it waited for as long as the network kept the answer.
describeWithPostgres('a client checked out of the pool whose statement got no answer in time', () => {
  const withPool = async (work: (pool: Pool, cut: { freeze(): void; heal(backoffMs: number): void }) => Promise<void>) => {
    const database = await postgresBehindProxy('cl_pool');
    const pool = new Pool({ connectionString: database.url, max: 1 });
    pool.on('error', () => undefined);
    try {
      await pool.query('SELECT 1');
      await work(pool, database.proxy);
    } finally {
      await database.proxy.restore();
      await pool.end();
      await database.close();
    }
  };

  it('is closed when released, whatever it is told: the next query gets a connection that answers', () =>
    withPool(async (pool, network) => {
      const client = await checkOutClient(pool);
      network.freeze();
      await expect(client.query(withAnswerTimeout({ text: 'SELECT 1' }, 300))).rejects.toThrow('Query read timeout');
      network.heal(RETRANSMISSION_BACKOFF_MS);
      client.release();

      const asked = Date.now();
      expect((await pool.query<{ one: number }>(withAnswerTimeout({ text: 'SELECT 1 AS one' }, 2000))).rows[0].one).toBe(1);
      expect(Date.now() - asked).toBeLessThan(1000);
    }));

  it('fails its transaction at once, closed rather than rolled back, and the next query gets a connection that answers', () =>
    withPool(async (pool, network) => {
      const asked = Date.now();
      const transaction = inTransaction(pool, 'BEGIN', (client) => {
        network.freeze();
        return client.query(withAnswerTimeout({ text: 'SELECT 1' }, 300));
      });
      await expect(transaction).rejects.toThrow('Query read timeout');
      expect(Date.now() - asked).toBeLessThan(1500);
      network.heal(RETRANSMISSION_BACKOFF_MS);

      expect((await pool.query<{ one: number }>(withAnswerTimeout({ text: 'SELECT 1 AS one' }, 2000))).rows[0].one).toBe(1);
    }));
});

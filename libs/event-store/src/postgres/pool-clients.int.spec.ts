import { Pool } from 'pg';
import { createTestSchema, describeWithPostgres, withClient } from '../../../../test/support/services';
import { checkOutClient } from './pool-clients';

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
});

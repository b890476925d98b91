import { createPool } from './db';

describe('createPool', () => {
  it('survives the server dropping a checked-out client: its queries fail, the process does not crash', async () => {
    const pool = createPool(process.env.DATABASE_URL!, 2);
    try {
      const client = await pool.connect();
      const { pid } = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
      // What a Postgres restart does to every backend: FATAL 57P01, then the socket closes. The client is checked
      // out but has no query running, so pg reports it as an 'error' event on the client.
      const ended = new Promise((resolve) => client.once('end', resolve));
      await pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await ended;
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release();
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await pool.end();
    }
  });
});

import type { Pool, PoolClient } from 'pg';

/**
 * Runs `fn` in one transaction on a pooled connection: committed if it returns, rolled back if it throws, and the
 * connection released either way. `snapshot` opens a read-only repeatable-read transaction: one consistent view.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>, mode: 'write' | 'snapshot' = 'write'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(mode === 'snapshot' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

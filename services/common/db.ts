import { Pool } from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../schema/generated/client';

/**
 * The hot paths (ingest, reconciler) use `pg` directly with multi-row statements; Prisma serves the query side,
 * where its types matter more than its throughput (measured here: createMany ~8.5k rows/s vs pg ~75k).
 */
export function createPool(databaseUrl: string, max = 10): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max });
  // An idle client losing its connection (a Postgres restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

export function createPrisma(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}

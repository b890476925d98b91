import { Client } from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { IntentLedgerError } from './errors';

export class ServiceUnreachable extends IntentLedgerError {}

/**
 * Fails within seconds, naming the variable to fix, when Kafka or Postgres cannot be reached, instead of letting
 * the clients retry for a minute and end in a stack trace.
 */
export async function preflight(servers: { kafkaBrokers: string[]; databaseUrl: string }): Promise<void> {
  const pg = new Client({ connectionString: servers.databaseUrl, connectionTimeoutMillis: 5000 });
  try {
    await pg.connect();
    await pg.query('SELECT 1');
  } catch (e) {
    throw new ServiceUnreachable(
      'POSTGRES_UNREACHABLE',
      `cannot use Postgres at ${redact(servers.databaseUrl)} (DATABASE_URL): ${(e as Error).message || String(e)}`,
    );
  } finally {
    await pg.end().catch(() => undefined);
  }
  const admin = new Kafka({
    clientId: 'intent-ledger-preflight',
    brokers: servers.kafkaBrokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    retry: { retries: 1, initialRetryTime: 300 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (e) {
    throw new ServiceUnreachable(
      'KAFKA_UNREACHABLE',
      `cannot reach Kafka at ${servers.kafkaBrokers.join(',')} (KAFKA_BROKERS): ${(e as Error).message || String(e)}`,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

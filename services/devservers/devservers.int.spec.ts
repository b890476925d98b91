import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { ensureServices, findPostgresBinaries, loadConfig, servicesStatus } from './index';

/** globalSetup has put the servers' addresses in the environment; these tests check what it found. */
const envKafka = (): string[] => (process.env.KAFKA_BROKERS ?? '').split(',').filter((b) => b !== '');
const envDatabaseUrl = (): string => process.env.DATABASE_URL ?? '';

describe('dev servers', () => {
  const cfg = loadConfig();
  // Local servers are ours unless the person running the tests pointed KAFKA_BROKERS / DATABASE_URL elsewhere.
  const localKafka = envKafka().join(',') === cfg.kafka.broker;
  const localPg = envDatabaseUrl() === cfg.postgres.databaseUrl;

  it('globalSetup exported both addresses', () => {
    expect(envKafka().length).toBeGreaterThan(0);
    expect(envDatabaseUrl()).toMatch(/^postgres(ql)?:\/\//);
  });

  it('ensureServices is idempotent: a second call finds both running, fast, at the same addresses', async () => {
    const saved = { KAFKA_BROKERS: process.env.KAFKA_BROKERS, DATABASE_URL: process.env.DATABASE_URL };
    // Without the variables ensureServices has to probe the local servers for real.
    if (localKafka) delete process.env.KAFKA_BROKERS;
    if (localPg) delete process.env.DATABASE_URL;
    try {
      const first = await ensureServices();
      const t0 = Date.now();
      const second = await ensureServices();
      const elapsed = Date.now() - t0;
      expect(first.started).toEqual([]);
      expect(second).toEqual(first);
      expect(second.kafkaBrokers).toEqual(envKafkaFrom(saved.KAFKA_BROKERS));
      expect(second.databaseUrl).toBe(saved.DATABASE_URL);
      expect(elapsed).toBeLessThan(1000);
    } finally {
      process.env.KAFKA_BROKERS = saved.KAFKA_BROKERS;
      process.env.DATABASE_URL = saved.DATABASE_URL;
    }
  });

  it('Postgres answers a real query', async () => {
    const client = new Client({ connectionString: envDatabaseUrl() });
    await client.connect();
    try {
      const r = await client.query<{ version: string; num: string; db: string }>(
        "select version() as version, current_setting('server_version_num') as num, current_database() as db",
      );
      const row = r.rows[0];
      expect(Number(row.num)).toBeGreaterThanOrEqual(150000);
      if (localPg) {
        // The server we started runs the binaries discovery picks (15 where installed).
        const major = findPostgresBinaries().major;
        expect(row.version).toMatch(new RegExp(`^PostgreSQL ${major}\\.`));
        expect(row.db).toBe('intent_ledger');
      }
    } finally {
      await client.end();
    }
  });

  it('Kafka answers describeCluster', async () => {
    const admin = new Kafka({ clientId: 'devservers-int-test', brokers: envKafka(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.clusterId).toEqual(expect.any(String));
      if (localKafka) {
        expect(cluster.brokers).toHaveLength(1);
        expect(cluster.brokers[0]).toMatchObject({ nodeId: 1, host: cfg.kafka.host, port: cfg.kafka.port });
      } else {
        expect(cluster.brokers.length).toBeGreaterThan(0);
      }
    } finally {
      await admin.disconnect();
    }
  });

  it('servicesStatus reports the local servers running, with pids', async () => {
    if (!localKafka || !localPg) return; // servers from the environment are not ours to report on
    const s = await servicesStatus();
    expect(s.kafka).toMatchObject({ running: true, address: cfg.kafka.broker, pid: expect.any(Number) });
    expect(s.postgres).toMatchObject({ running: true, url: cfg.postgres.databaseUrl, pid: expect.any(Number) });
  });
});

function envKafkaFrom(v: string | undefined): string[] {
  return (v ?? '').split(',').filter((b) => b !== '');
}

import { randomBytes } from 'node:crypto';
import type { Kafka, Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { loadConfig, Config } from '../services/common/config';
import { createLogger } from '../services/common/logger';
import { createKafka, ensureTopics } from '../services/common/kafka';
import { createPool } from '../services/common/db';
import { loadCatalogue, ToolCatalogue } from '../schema/catalogue';
import { startIngestConsumer, IngestConsumer } from '../consumers/ingest';
import { startReconciler, Reconciler } from '../consumers/reconciler/reconcilerConsumer';
import { loadReconcilePolicy } from '../consumers/reconciler/reconcileNotice';
import { AgentClient, createAgentKey, createAgentProducer } from '../services/sdk';
import { registerAgentKey } from '../services/registry';

/**
 * A pipeline on the real servers that globalSetup started, with topics and consumer groups of its own (a random
 * prefix), so test files do not see each other's records.
 */
export interface Harness {
  config: Config;
  kafka: Kafka;
  pool: Pool;
  producer: Producer;
  catalogue: ToolCatalogue;
  ingest: IngestConsumer | null;
  reconciler: Reconciler | null;
  startIngest(): Promise<IngestConsumer>;
  startReconciler(): Promise<Reconciler>;
  newAgent(name?: string): Promise<AgentClient>;
  stop(): Promise<void>;
}

export async function createHarness(env: Record<string, string> = {}): Promise<Harness> {
  const brokers = process.env.KAFKA_BROKERS;
  const databaseUrl = process.env.DATABASE_URL;
  if (!brokers || !databaseUrl) throw new Error('KAFKA_BROKERS and DATABASE_URL must be set (test/globalSetup.ts sets them)');
  const prefix = `t${randomBytes(4).toString('hex')}`;
  const config = loadConfig({ ...process.env, IL_TOPIC_PREFIX: prefix, IL_LOG_LEVEL: 'silent', ...env });
  const kafka = createKafka(config.kafkaBrokers!, `${prefix}-test`, 'silent');
  await ensureTopics(kafka, config);
  const pool = createPool(databaseUrl, 8);
  const producer = createAgentProducer(kafka);
  await producer.connect();
  const catalogue = loadCatalogue(config.cataloguePath);
  const log = createLogger('silent');
  const h: Harness = {
    config, kafka, pool, producer, catalogue, ingest: null, reconciler: null,
    async startIngest() {
      h.ingest = await startIngestConsumer(kafka, pool, config, log);
      return h.ingest;
    },
    async startReconciler() {
      h.reconciler = await startReconciler(kafka, pool, config, { ...loadReconcilePolicy(config), catalogue }, log);
      return h.reconciler;
    },
    async newAgent(name = 'agent') {
      const key = createAgentKey(`${prefix}-${name}-${randomBytes(3).toString('hex')}`);
      await registerAgentKey(pool, { agentId: key.agentId, publicKey: key.publicKey });
      return new AgentClient({ key, producer, topic: config.topics.events, catalogue });
    },
    async stop() {
      await h.reconciler?.stop().catch(() => undefined);
      await h.ingest?.stop().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
  return h;
}

/** Polls until `probe` returns a value that is not undefined, or fails with what it last saw. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

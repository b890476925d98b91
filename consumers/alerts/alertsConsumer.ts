import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Config } from '../../services/common/config';
import type { Logger } from '../../services/common/logger';
import { commitThrough, watchConsumer } from '../../services/common/kafka';
import type { AlertSinksConfig } from './sinksConfig';
import { recordAlertBatch } from './intakeStore';
import { startDispatcher } from './dispatcher';
import { createSink } from './sinks/createSink';
import type { Sink } from './sinks/sink';
import { AlertsMetrics } from './alertsMetrics';

export interface AlertsConsumer {
  metrics: AlertsMetrics;
  /** Resolves when the consumer has joined its group and been given partitions. */
  joined: Promise<void>;
  /** Resolves if kafkajs gives up on the consumer; the process should then exit. */
  failed: Promise<Error>;
  stop(): Promise<void>;
}

export interface AlertsConsumerOptions {
  /** Sinks to use instead of those the configuration describes (tests wrap them to observe attempts). */
  sinks?: Sink[];
  /** Jitter source for the backoff (tests pass a fixed one). */
  random?: () => number;
}

/**
 * Reads the alerts topic and records each batch (alerts, outbox rows, the partition's next offset) in one
 * Postgres transaction before the Kafka commit; a dispatcher alongside sends the outbox to the sinks. With no
 * sinks configured, alerts are only recorded.
 */
export async function startAlertsConsumer(kafka: Kafka, pool: Pool, config: Config, sinksConfig: AlertSinksConfig, kafkaBrokers: string[], log: Logger, opts: AlertsConsumerOptions = {}): Promise<AlertsConsumer> {
  const metrics = new AlertsMetrics();
  const sinks = opts.sinks ?? sinksConfig.sinks.map((s) => createSink(s, { kafkaBrokers, clientId: config.clientId }));
  const intakeSinks = sinksConfig.sinks.map((s) => ({ name: s.name, severities: s.severities, dedupeWindowSeconds: s.dedupeWindowSeconds }));
  const topic = config.topics.alerts;
  const dispatcher = startDispatcher(pool, { sourceTopic: topic, sinks, config: sinksConfig, log: log.child({ component: 'alert-dispatch' }), metrics, random: opts.random });
  const consumer = kafka.consumer({ groupId: config.alertsGroup, allowAutoTopicCreation: false });
  const { joined, failed } = watchConsumer(consumer, 'alerts', log);
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: config.partitions,
    eachBatch: async (payload) => {
      const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      const out = await recordAlertBatch(
        pool,
        { groupId: config.alertsGroup, topic: batch.topic, partition: batch.partition },
        batch.messages.map((m) => ({ offset: m.offset, value: m.value })),
        intakeSinks,
      );
      metrics.addIntake(out);
      for (const p of out.problems) log.error('alerts topic record is not a drift alert; kept in alerts_received', { partition: batch.partition, offset: p.offset, problem: p.problem });
      const last = batch.messages[batch.messages.length - 1]!.offset;
      resolveOffset(last);
      await commitThrough(payload, last);
      await heartbeat();
      if (out.deliveries > 0) dispatcher.wake();
    },
  });
  return {
    metrics,
    joined,
    failed,
    async stop() {
      await consumer.disconnect();
      await dispatcher.stop();
    },
  };
}

import type { Kafka, Consumer, Producer } from 'kafkajs';
import type { Pool } from 'pg';
import type { Config } from '../../services/common/config';
import type { Logger } from '../../services/common/logger';
import { ingestBatch } from './ingestBatch';
import { IngestMetrics } from './ingestMetrics';

export interface IngestConsumer {
  metrics: IngestMetrics;
  /** Resolves when the consumer has joined its group and been given partitions. */
  joined: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Reads the agents' events topic, ledgers each partition batch in one transaction, announces ledgered events on
 * the ledger topic and rejected ones on the dead-letter topic, and only then commits the offsets. A crash anywhere
 * before the commit means redelivery, which ingestBatch makes harmless.
 */
export async function startIngestConsumer(kafka: Kafka, pool: Pool, config: Config, log: Logger): Promise<IngestConsumer> {
  const metrics = new IngestMetrics();
  const consumer: Consumer = kafka.consumer({ groupId: config.ingestGroup, allowAutoTopicCreation: false, maxBytesPerPartition: 4 * 1024 * 1024 });
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic: config.topics.events, fromBeginning: true });
  const limits = { maxBytes: config.maxEventBytes, maxDepth: config.maxJsonDepth, clockSkewMs: config.clockSkewMs };

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    // Partitions are independent chains of agents: ledger them side by side.
    partitionsConsumedConcurrently: config.partitions,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      const records = batch.messages.map((m) => ({ offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp }));
      const out = await ingestBatch(pool, batch.topic, batch.partition, records, limits, metrics);
      const sends = [];
      if (out.notices.length > 0) {
        sends.push({
          topic: config.topics.ledger,
          messages: out.notices.map((n) => ({ key: n.agentId, value: JSON.stringify(n) })),
        });
      }
      if (out.rejected.length > 0) {
        sends.push({
          topic: config.topics.deadLetter,
          messages: out.rejected.map((r) => ({
            key: r.kafkaKey,
            value: r.raw,
            headers: { reason: r.reason, detail: r.detail.slice(0, 500), source: `${r.coords.topic}/${r.coords.partition}/${r.coords.offset}` },
          })),
        });
      }
      if (sends.length > 0) await producer.sendBatch({ topicMessages: sends });
      const last = batch.messages[batch.messages.length - 1]!.offset;
      // resolveOffset moves kafkajs's fetch position; commitOffsets alone would have it fetch this batch again.
      resolveOffset(last);
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      await heartbeat();
      if (out.rejected.length > 0) {
        log.warn('events rejected', { partition: batch.partition, count: out.rejected.length, reasons: [...new Set(out.rejected.map((r) => r.reason))] });
      }
    },
  });

  return {
    metrics,
    joined,
    async stop() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

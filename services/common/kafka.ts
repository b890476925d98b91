import { Kafka, logLevel as KafkaLogLevel, Admin, Consumer } from 'kafkajs';
import type { Logger } from './logger';
import { Config } from './config';

/** One Kafka client factory, quiet unless debugging: kafkajs's own logs go through our level. */
export function createKafka(brokers: string[], clientId: string, level: Config['logLevel'] = 'warn'): Kafka {
  const map: Record<Config['logLevel'], KafkaLogLevel> = {
    debug: KafkaLogLevel.INFO,
    info: KafkaLogLevel.ERROR,
    warn: KafkaLogLevel.ERROR,
    error: KafkaLogLevel.ERROR,
    silent: KafkaLogLevel.NOTHING,
  };
  return new Kafka({
    clientId,
    brokers,
    logLevel: map[level],
    retry: { initialRetryTime: 100, retries: 10 },
    connectionTimeout: 5000,
  });
}

/** Creates the project's topics when missing. Idempotent. */
export async function ensureTopics(kafka: Kafka, config: Config): Promise<void> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = Object.values(config.topics).filter((t) => !existing.has(t));
    if (wanted.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: wanted.map((topic) => ({ topic, numPartitions: config.partitions, replicationFactor: 1 })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * When a consumer has joined its group, and when kafkajs has given up on it (a crash it will not restart from):
 * a consumer in that state reads nothing more, so its process should exit and be restarted.
 */
export function watchConsumer(consumer: Consumer, name: string, log: Logger): { joined: Promise<void>; failed: Promise<Error> } {
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  const failed = new Promise<Error>((resolve) =>
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      log.error(`${name} consumer stopped after an error kafkajs will not retry`, { error: payload.error.message });
      resolve(payload.error);
    }),
  );
  return { joined, failed };
}

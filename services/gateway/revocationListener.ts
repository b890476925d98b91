import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from '../common/logger';
import { parseRevocationNotice, type RevocationTopicNotice } from '../../schema/events';
import type { RevocationList } from './revocationList';

export interface RevocationListener {
  /** Resolves once every notice on the topic when the listener started has been applied. */
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Reads the whole revocations topic into `list`, then follows it. Each gateway process has a consumer group of its
 * own, so every gateway sees every notice (a shared group would split them). Reading from the start is what lets a
 * restarted gateway refuse what was revoked while it was down: the topic's retention must therefore exceed the
 * longest credential lifetime (policy maxCredentialSeconds).
 */
export async function startRevocationListener(kafka: Kafka, topic: string, list: RevocationList, log: Logger, onNotice?: (n: RevocationTopicNotice, at: number) => void): Promise<RevocationListener> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  // Partitions with records not yet applied, and the offset each must pass.
  const behind = new Map(ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
  let caughtUp!: () => void;
  const done = new Promise<void>((r) => (caughtUp = r));
  if (behind.size === 0) caughtUp();

  const consumer = kafka.consumer({ groupId: `${topic}.gateway.${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    partitionsConsumedConcurrently: 4,
    eachMessage: async ({ partition, message }) => {
      const n = parseRevocationNotice(message.value);
      const at = Date.now();
      if (n === null) log.warn('revocations topic record is not a notice; ignored', { partition, offset: message.offset });
      else if (list.apply(n, at)) onNotice?.(n, at);
      const end = behind.get(partition);
      if (end !== undefined && BigInt(message.offset) + 1n >= end) {
        behind.delete(partition);
        if (behind.size === 0) caughtUp();
      }
    },
  });
  return { caughtUp: done, stop: () => consumer.disconnect() };
}

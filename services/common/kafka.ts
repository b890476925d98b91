import { Kafka, logLevel as KafkaLogLevel, Admin, Consumer, AssignerProtocol, EachBatchPayload } from 'kafkajs';
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

/**
 * Waits until a consumer group is Stable with exactly `members` members, each holding at least one partition, and
 * has stayed so, with the same members, for `settleMs` (long enough for a pending rebalance to show), so that a
 * measurement or a test does not run through a rebalance. Throws with the last state seen on timeout.
 */
export async function waitForStableGroup(kafka: Kafka, groupId: string, members: number, timeoutMs = 60_000, settleMs = 0): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  let seen = 'not described yet';
  let stableSince: { at: number; members: string } | null = null;
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { groups } = await admin.describeGroups([groupId]);
      const g = groups[0];
      if (g) {
        const assigned = g.members.filter((m) => holdsPartitions(m.memberAssignment)).length;
        seen = `state ${g.state}, ${g.members.length} members, ${assigned} with partitions`;
        const ids = g.members.map((m) => m.memberId).sort().join(',');
        if (g.state === 'Stable' && g.members.length === members && assigned === members) {
          if (stableSince === null || stableSince.members !== ids) stableSince = { at: Date.now(), members: ids };
          if (Date.now() - stableSince.at >= settleMs) return;
        } else {
          stableSince = null;
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`consumer group ${groupId} not stable with ${members} members after ${timeoutMs} ms (${seen})`);
  } finally {
    await admin.disconnect();
  }
}

function holdsPartitions(assignment: Buffer): boolean {
  if (assignment.length === 0) return false;
  const decoded = AssignerProtocol.MemberAssignment.decode(assignment);
  return decoded !== null && Object.values(decoded.assignment).some((ps) => ps.length > 0);
}

/**
 * Commits a partition through `last` from inside eachBatch, through the batch's own handle. Why not
 * consumer.commitOffsets(): once a stop has begun it silently does nothing, so the batch a SIGTERM interrupted was
 * left uncommitted and fetched again after the restart.
 */
export async function commitThrough(payload: Pick<EachBatchPayload, 'batch' | 'commitOffsetsIfNecessary'>, last: string): Promise<void> {
  const { topic, partition } = payload.batch;
  const offset = (BigInt(last) + 1n).toString();
  await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset }] }] });
}

import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { Config } from '../../services/common/config';
import type { Logger } from '../../services/common/logger';
import { commitThrough, watchConsumer } from '../../services/common/kafka';
import { reconcileNotice, noticeEventIds, judgeOverdue, graceOf, ReconcilePolicy, ReconcileOutcome } from './reconcileNotice';
import { judgeUnmatched } from './gatewayMatch';

export class ReconcilerMetrics {
  notices = 0;
  ignored = 0;
  actions = 0;
  findings = 0;
  revocations = 0;
  /** Actions judged after waiting for their intent past the grace window. */
  overdue = 0;
  /** Observations and gateway-only reports judged after waiting for the other side past the grace window. */
  unmatched = 0;
  /** Credentials ended by intent.closed, announced to gateways. */
  closures = 0;
  snapshot() {
    return {
      notices: this.notices, ignored: this.ignored, actions: this.actions, findings: this.findings, revocations: this.revocations, overdue: this.overdue,
      unmatched: this.unmatched, closures: this.closures,
    };
  }
}

export interface Reconciler {
  metrics: ReconcilerMetrics;
  /** Resolves when the consumer has joined its group and been given partitions. */
  joined: Promise<void>;
  /** Resolves if kafkajs gives up on the consumer; the process should then exit. */
  failed: Promise<Error>;
  stop(): Promise<void>;
}

/**
 * Reads the ledger topic (events that passed ingest), reconciles each action against its intent, and sends drift
 * alerts and revocations. Messages are handled one at a time, in order per agent, so that a revocation is never
 * waiting behind a whole batch; the offset is committed after each message's transaction.
 */
export async function startReconciler(kafka: Kafka, pool: Pool, config: Config, policy: ReconcilePolicy, log: Logger): Promise<Reconciler> {
  const metrics = new ReconcilerMetrics();
  const consumer = kafka.consumer({ groupId: config.reconcilerGroup, allowAutoTopicCreation: false });
  // Not kafkajs's idempotent mode: with partitions sending concurrently it can acknowledge a record it never wrote
  // after an ambiguous failure (see services/sdk/agentProducer.ts). A retried alert or revocation may arrive twice.
  const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const { joined, failed } = watchConsumer(consumer, 'reconciler', log);
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic: config.topics.ledger, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: config.partitions,
    eachBatch: async (payload) => {
      const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
      let last: string | null = null;
      for (const message of batch.messages) {
        if (!isRunning() || isStale()) break;
        const eventIds = noticeEventIds(message.value);
        if (eventIds === null) {
          // Not a ledger notice: nothing to reconcile, and no reason to stop the partition over it.
          metrics.ignored += 1;
          log.error('ledger topic message is not a ledger notice; ignored', { partition: batch.partition, offset: message.offset });
        }
        for (const eventId of eventIds ?? []) {
          const out = await reconcileNotice(pool, eventId, policy);
          if (out === null) {
            metrics.ignored += 1;
            log.error('ledger topic message names no ledgered event; ignored', { partition: batch.partition, offset: message.offset, eventId });
            continue;
          }
          metrics.notices += 1;
          if (out.type === 'action.reported') metrics.actions += 1;
          // Alerts and revocations go out as soon as their transaction commits, not at the end of the batch.
          await publish(out);
        }
        resolveOffset(message.offset);
        last = message.offset;
        await heartbeat();
      }
      // Committed once per batch: a crash before this replays the batch, which reconcileNotice makes harmless.
      if (last !== null) {
        await commitThrough(payload, last);
      }
    },
  });
  async function publish(out: ReconcileOutcome): Promise<void> {
    const sends = [];
    const ended = [...out.revocations, ...(out.closures ?? [])];
    if (ended.length > 0) {
      sends.push({ topic: config.topics.revocations, messages: ended.map((r) => ({ key: r.agentId, value: JSON.stringify(r) })) });
    }
    if (out.alerts.length > 0) {
      sends.push({ topic: config.topics.alerts, messages: out.alerts.map((a) => ({ key: a.agentId, value: JSON.stringify(a) })) });
    }
    if (sends.length > 0) await producer.sendBatch({ topicMessages: sends });
    metrics.findings += out.alerts.length;
    metrics.revocations += out.revocations.length;
    metrics.closures += out.closures?.length ?? 0;
    for (const r of out.revocations) log.info('credential revoked', { agentId: r.agentId, intentId: r.intentId, reason: r.reasonCode, latencyMs: r.latencyMs });
  }

  // Actions that waited for their intent past the grace window are judged without it; observations and
  // gateway-only reports that waited for each other past it are judged unreported or unobserved. Swept at a quarter of the
  // window (at least every 50 ms, at most every 5 s), so a verdict comes at most ~1.25 windows after arrival.
  const sweepMs = Math.min(5_000, Math.max(50, Math.floor(graceOf(policy) / 4)));
  let sweeping: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    sweeping = (async () => {
      try {
        for (;;) {
          const out = await judgeOverdue(pool, policy);
          if (out.judged === 0) break;
          metrics.overdue += out.judged;
          await publish(out);
        }
        for (;;) {
          const out = await judgeUnmatched(pool, policy);
          if (out.judged === 0) break;
          metrics.unmatched += out.judged;
          await publish(out);
        }
      } catch (e) {
        // The rows stay pending and are tried again on the next tick.
        log.error('judging overdue actions failed; will retry', { error: (e as Error).message });
      }
    })().finally(() => {
      if (!stopped) timer = setTimeout(tick, sweepMs);
    });
  };
  timer = setTimeout(tick, sweepMs);

  return {
    metrics,
    joined,
    failed,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await sweeping;
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Pool } from 'pg';
import type { Config } from '../../services/common/config';
import type { Logger } from '../../services/common/logger';
import { commitThrough, watchConsumer } from '../../services/common/kafka';
import { reconcileNotice, reconcileNotices, parseLedgerMessage, judgeOverdue, settleOverdueIntents, graceOf, ReconcilePolicy, ReconcileOutcome } from './reconcileNotice';
import { judgeUnmatched } from './gatewayMatch';
import { handleIntegrityFindings, type IntegrityAlert } from './integrityRevocation';

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
  /** Integrity findings acted on (revoked at or above revokeAt). */
  integrity = 0;
  snapshot() {
    return {
      notices: this.notices, ignored: this.ignored, actions: this.actions, findings: this.findings, revocations: this.revocations, overdue: this.overdue,
      unmatched: this.unmatched, closures: this.closures, integrity: this.integrity,
    };
  }
}

/** Lanes side by side within one partition's batch (each holds a database connection while it works). */
export const RECONCILE_LANES = 4;
/** Events applied per transaction in a lane: one commit for up to this many, and revocations wait for it. */
export const CHUNK_EVENTS = 128;

/** The lane of an agent's messages: a hash of the record key, so one agent always lands in the same lane. */
function laneOf(key: Buffer | null): number {
  let h = 0;
  for (const b of key ?? []) h = (h * 31 + b) >>> 0;
  return h % RECONCILE_LANES;
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
 * alerts and revocations. Messages are handled in order per agent, several agents at a time (RECONCILE_LANES),
 * each in its own transaction, and what they cause is sent as soon as it commits, so that a revocation is never
 * waiting behind a whole batch; offsets are committed once per batch.
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
      // Lanes by agent (the record key): an agent's messages stay in order in one lane, lanes run side by side, and
      // each lane applies its messages a few at a time in one transaction, so one partition's backlog costs a
      // commit per chunk rather than a round trip and a commit per event.
      const lanes: KafkaMessage[][] = Array.from({ length: RECONCILE_LANES }, () => []);
      for (const m of batch.messages) lanes[laneOf(m.key)]!.push(m);
      const done = new Set<string>();
      const work = async (lane: KafkaMessage[]) => {
        for (let i = 0; i < lane.length; ) {
          if (!isRunning() || isStale()) return;
          const chunk: KafkaMessage[] = [];
          let events = 0;
          while (i < lane.length && (chunk.length === 0 || events < CHUNK_EVENTS)) {
            chunk.push(lane[i]!);
            events += parseLedgerMessage(lane[i]!.value)?.eventIds.length ?? 0;
            i++;
          }
          await handle(batch.partition, chunk);
          for (const m of chunk) done.add(m.offset);
          await heartbeat();
        }
      };
      const results = await Promise.allSettled(lanes.filter((l) => l.length > 0).map(work));
      // Committed through the last message before the first one not done: a crash or a failed lane replays the
      // rest, which reconcileNotice makes harmless.
      let last: string | null = null;
      for (const m of batch.messages) {
        if (!done.has(m.offset)) break;
        last = m.offset;
      }
      if (last !== null) {
        resolveOffset(last);
        await commitThrough(payload, last);
      }
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
    },
  });
  /** Reconciles the events of these messages in one transaction (singly if that fails), then sends what they caused. */
  async function handle(partition: number, messages: KafkaMessage[]): Promise<void> {
    const ids: Array<{ eventId: string; offset: string }> = [];
    const integrityIds: string[] = [];
    for (const message of messages) {
      const parsed = parseLedgerMessage(message.value);
      if (parsed === null) {
        // Not a ledger notice: nothing to reconcile, and no reason to stop the partition over it.
        metrics.ignored += 1;
        log.error('ledger topic message is not a ledger notice; ignored', { partition, offset: message.offset });
      }
      for (const eventId of parsed?.eventIds ?? []) ids.push({ eventId, offset: message.offset });
      integrityIds.push(...(parsed?.integrityIds ?? []));
    }
    if (integrityIds.length > 0) {
      // A fork or a gap in an agent's chain: its credentials are revoked before its next events are judged.
      const out = await handleIntegrityFindings(pool, policy.revokeAt, integrityIds);
      metrics.integrity += out.handled;
      await publish(out);
    }
    if (ids.length === 0) return;
    for (let from = 0; from < ids.length; ) {
      const rest = ids.slice(from);
      let outs: Awaited<ReturnType<typeof reconcileNotices>>;
      try {
        // Stops early after an event that revoked, so the revocation is committed and sent without waiting for the
        // rest of the chunk; the loop then goes on with what is left.
        outs = await reconcileNotices(pool, rest.map((x) => x.eventId), policy, undefined, { stopAfterRevocation: true });
      } catch (e) {
        // One event may be the trouble (or a deadlock with another lane): apply them one by one, in order.
        log.warn('reconciling a chunk failed; retrying its events one at a time', { partition, events: rest.length, error: (e as Error).message });
        outs = [];
        for (const x of rest) outs.push(await reconcileNotice(pool, x.eventId, policy));
      }
      await account(partition, rest.slice(0, outs.length), outs);
      from += Math.max(1, outs.length);
    }
  }

  /** Counts what a committed stretch of events caused, and sends it. */
  async function account(partition: number, ids: Array<{ eventId: string; offset: string }>, outs: Awaited<ReturnType<typeof reconcileNotices>>): Promise<void> {
    // Alerts and revocations go out as soon as their transaction commits, not at the end of the batch.
    const caused: ReconcileOutcome = { alerts: [], revocations: [], closures: [] };
    outs.forEach((out, i) => {
      if (out === null) {
        metrics.ignored += 1;
        log.error('ledger topic message names no ledgered event; ignored', { partition, offset: ids[i]!.offset, eventId: ids[i]!.eventId });
        return;
      }
      metrics.notices += 1;
      if (out.type === 'action.reported') metrics.actions += 1;
      caused.alerts.push(...out.alerts);
      caused.revocations.push(...out.revocations);
      caused.closures!.push(...(out.closures ?? []));
    });
    await publish(caused);
  }
  async function publish(out: { alerts: Array<ReconcileOutcome['alerts'][number] | IntegrityAlert>; revocations: ReconcileOutcome['revocations']; closures?: ReconcileOutcome['closures'] }): Promise<void> {
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

  // What waited past the grace window is judged without what it waited for: delegated intents without their parent,
  // actions without their intent, observations and gateway-only reports without each other (unreported,
  // unobserved); and integrity findings whose announcement was lost are acted on. Swept at a quarter of the window
  // (at least every 50 ms, at most every 5 s), so a verdict comes at most ~1.25 windows after arrival.
  const sweepMs = Math.min(5_000, Math.max(50, Math.floor(graceOf(policy) / 4)));
  let sweeping: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  /** Runs one sweep step until it finds nothing due, counting and sending what each pass handled and caused. */
  const drain = async (count: (n: number) => void, step: () => Promise<Parameters<typeof publish>[0] & { done: number }>): Promise<void> => {
    for (;;) {
      const out = await step();
      if (out.done === 0) return;
      count(out.done);
      await publish(out);
    }
  };
  const tick = () => {
    sweeping = (async () => {
      try {
        // Intents first: an action waiting for a pending intent is judged when the intent is decided.
        await drain((n) => (metrics.overdue += n), async () => {
          const out = await settleOverdueIntents(pool, policy);
          return { ...out, done: out.settled };
        });
        await drain((n) => (metrics.overdue += n), async () => {
          const out = await judgeOverdue(pool, policy);
          return { ...out, done: out.judged };
        });
        await drain((n) => (metrics.unmatched += n), async () => {
          const out = await judgeUnmatched(pool, policy);
          return { ...out, done: out.judged };
        });
        await drain((n) => (metrics.integrity += n), async () => {
          const out = await handleIntegrityFindings(pool, policy.revokeAt, null);
          return { ...out, done: out.handled };
        });
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

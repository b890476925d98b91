import { createHash } from 'node:crypto';
import type { Kafka, Consumer, Producer, Message, TopicMessages } from 'kafkajs';
import type { Pool } from 'pg';
import type { Config } from '../../services/common/config';
import type { Logger } from '../../services/common/logger';
import { commitThrough, watchConsumer } from '../../services/common/kafka';
import { ingestBatch, BatchOutcome } from './ingestBatch';
import { inlineVerifier, Verifier, WorkerVerifier } from './verifyPool';
import { IngestMetrics } from './ingestMetrics';
import { loadIntegrityConfig, loadOrCreateLedgerKey, TreeHeadSigner, TreeHeadSignerOptions } from '../../services/integrity';
import type { RejectedRow, LedgerNotice } from './ledgerStore';

export interface IngestConsumer {
  metrics: IngestMetrics;
  /** Resolves when the consumer has joined its group and been given partitions. */
  joined: Promise<void>;
  /**
   * Resolves (never rejects) if kafkajs gives up on the consumer for good: it then no longer reads anything, so a
   * process should exit and be restarted rather than sit there looking healthy.
   */
  failed: Promise<Error>;
  stop(): Promise<void>;
}

/**
 * Most value bytes sent to Kafka in one request. The broker refuses a record batch over its message.max.bytes
 * (1 MiB by default), and that refusal cannot be retried away: a batch of large ledger notices or dead letters must
 * go out in pieces, or the partition it came from would fail the same way on every redelivery.
 */
export const SEND_BUDGET_BYTES = 512 * 1024;


export interface IngestOptions {
  /** How tree heads are signed; default from the environment (IL_LEDGER_KEY_FILE, IL_TREE_HEAD_EVERY_N/_MS). */
  treeHeads?: Omit<TreeHeadSignerOptions, 'log'>;
}

/**
 * Reads the agents' events topic, ledgers each partition batch in one transaction, announces ledgered events on
 * the ledger topic and rejected ones on the dead-letter topic, and only then commits the offsets. A crash anywhere
 * before the commit means redelivery, which ingestBatch makes harmless. Alongside, it signs tree heads over the
 * ledger (every N leaves or T ms, and on stop).
 */
export async function startIngestConsumer(kafka: Kafka, pool: Pool, config: Config, log: Logger, opts: IngestOptions = {}): Promise<IngestConsumer> {
  const metrics = new IngestMetrics();
  const signer = new TreeHeadSigner(pool, { ...(opts.treeHeads ?? treeHeadsFromEnv()), log: log.child({ component: 'tree-heads' }) });
  const consumer: Consumer = kafka.consumer({ groupId: config.ingestGroup, allowAutoTopicCreation: false, maxBytesPerPartition: 4 * 1024 * 1024 });
  // Not kafkajs's idempotent mode, which can acknowledge a record it never wrote after an ambiguous failure when
  // partitions send concurrently (see services/sdk/agentProducer.ts). A retried notice or dead letter may arrive
  // twice instead, which the reconciler and dead-letter readers take as the same one.
  const producer: Producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  const { joined, failed } = watchConsumer(consumer, 'ingest', log);
  const verifier: Verifier =
    config.verifyWorkers > 0
      ? new WorkerVerifier(config.verifyWorkers, (e) => log.error('signature verify worker failed; verifying on the event loop from now on', { error: e.message }))
      : inlineVerifier;
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic: config.topics.events, fromBeginning: true });
  const limits = { maxBytes: config.maxEventBytes, maxDepth: config.maxJsonDepth, clockSkewMs: config.clockSkewMs };

  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    // Partitions are independent chains of agents: ledger them side by side.
    partitionsConsumedConcurrently: config.partitions,
    eachBatch: async (payload) => {
      const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
      if (!isRunning() || isStale() || batch.messages.length === 0) return;
      const records = batch.messages.map((m) => ({ offset: m.offset, key: m.key, value: m.value, timestamp: m.timestamp }));
      // One transaction for the whole fetched batch (up to maxBytesPerPartition): measured faster than ledgering it
      // in pipelined slices, whose extra transactions cost more than the overlap gained.
      const out = await ingestBatch(pool, batch.topic, batch.partition, records, limits, metrics, undefined, verifier);
      await announce(out, batch.partition);
      const last = batch.messages[batch.messages.length - 1]!.offset;
      // resolveOffset moves kafkajs's fetch position; commitOffsets alone would have it fetch this batch again.
      resolveOffset(last);
      await commitThrough(payload, last);
      await heartbeat();
    },
  });

  async function announce(out: BatchOutcome, partition: number): Promise<void> {
    signer.noteAppended(out.ledgered);
    const sends: TopicMessages[] = [];
    if (out.notices.length > 0) sends.push({ topic: config.topics.ledger, messages: noticeMessages(out.notices) });
    if (out.integrity.length > 0) sends.push({ topic: config.topics.ledger, messages: integrityMessages(out.integrity) });
    if (out.rejected.length > 0) {
      sends.push({ topic: config.topics.deadLetter, messages: out.rejected.map((r) => deadLetter(r, config.maxEventBytes)) });
    }
    for (const request of splitSends(sends, SEND_BUDGET_BYTES)) await producer.sendBatch({ topicMessages: request });
    if (out.rejected.length > 0) {
      log.warn('events rejected', { partition, count: out.rejected.length, reasons: [...new Set(out.rejected.map((r) => r.reason))] });
    }
  }

  signer.start();
  return {
    metrics,
    joined,
    failed,
    async stop() {
      try {
        await consumer.disconnect();
        await signer.stop();
        await producer.disconnect();
      } finally {
        // Worker threads keep a process alive: closed whatever else failed.
        await verifier.close();
      }
    },
  };
}

function treeHeadsFromEnv(): Omit<TreeHeadSignerOptions, 'log'> {
  const c = loadIntegrityConfig();
  return { key: loadOrCreateLedgerKey(c.keyFile), everyN: c.treeHeadEveryN, everyMs: c.treeHeadEveryMs };
}

/**
 * The dead-letter copy of a rejected record. Bytes over the ledger's own size limit are not copied (they could
 * exceed what the broker accepts); headers say so, and rejected_events holds them in full.
 */
function deadLetter(r: RejectedRow, maxEventBytes: number): Message {
  const headers: Record<string, string> = { reason: r.reason, detail: r.detail.slice(0, 500), source: `${r.coords.topic}/${r.coords.partition}/${r.coords.offset}` };
  if (r.raw.length <= maxEventBytes) return { key: r.kafkaKey, value: r.raw, headers };
  return {
    key: r.kafkaKey,
    value: null,
    headers: { ...headers, 'raw-omitted': 'larger than IL_MAX_EVENT_BYTES; the bytes are in rejected_events', 'raw-bytes': String(r.raw.length), 'raw-sha256': createHash('sha256').update(r.raw).digest('hex') },
  };
}

/**
 * One ledger-topic message per agent per batch, keyed by the agent (so each agent's events stay in order on one
 * partition), listing that agent's newly ledgered events in ledger order. A pointer, not the evidence: readers
 * fetch the events from the ledger. Batching by agent cuts the messages, and the work of producing them, several-fold
 * when a batch carries many events of one agent.
 */
export function noticeMessages(notices: LedgerNotice[]): Message[] {
  const byAgent = new Map<string, LedgerNotice[]>();
  for (const n of notices) {
    const list = byAgent.get(n.agentId);
    if (list) list.push(n);
    else byAgent.set(n.agentId, [n]);
  }
  const out: Message[] = [];
  for (const [agentId, events] of byAgent) {
    // A notice stays far below the broker's record limit however many events one agent had in the batch.
    for (let i = 0; i < events.length; i += NOTICE_MAX_EVENTS) {
      out.push({ key: agentId, value: JSON.stringify({ v: 1, agentId, events: events.slice(i, i + NOTICE_MAX_EVENTS) }) });
    }
  }
  return out;
}

/**
 * Integrity findings (a fork, a gap) for the reconciler to act on, one message per agent: `{v: 1, agentId,
 * integrity: [findingId, ...]}`. Ids only: the reconciler reads each finding from the database (and sweeps for any
 * whose message was lost).
 */
export function integrityMessages(found: Array<{ id: string; agentId: string }>): Message[] {
  const byAgent = new Map<string, string[]>();
  for (const f of found) byAgent.set(f.agentId, [...(byAgent.get(f.agentId) ?? []), f.id]);
  return [...byAgent].map(([agentId, ids]) => ({ key: agentId, value: JSON.stringify({ v: 1, agentId, integrity: ids.slice(0, NOTICE_MAX_EVENTS) }) }));
}

/** Events per ledger notice: each is a few hundred bytes, so a notice stays under about 128 KiB. */
export const NOTICE_MAX_EVENTS = 256;

/** Splits the messages, in order, into requests of at most `budget` value bytes each (at least one message per request). */
export function splitSends(sends: TopicMessages[], budget: number): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let size = 0;
  for (const { topic, messages } of sends) {
    for (const m of messages) {
      const bytes = (m.value === null ? 0 : Buffer.byteLength(m.value)) + (m.key == null ? 0 : Buffer.byteLength(m.key));
      if (size > 0 && size + bytes > budget) {
        requests.push(current);
        current = [];
        size = 0;
      }
      const tail = current[current.length - 1];
      if (tail && tail.topic === topic) tail.messages.push(m);
      else current.push({ topic, messages: [m] });
      size += bytes;
    }
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

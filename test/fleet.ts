import { generateKeyPairSync, sign as nodeSign, randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { AgentClient, AgentKey, EventNotDelivered, keyIdFor, SentEvent } from '../services/sdk';
import { registerAgentKey } from '../services/registry';
import type { Harness } from './pipelineHarness';
import { eventually } from './pipelineHarness';

/**
 * A fleet of agents producing continuously through the real SDK (AgentClient) while a test breaks things. Each
 * agent loops: declare an intent, report a few actions, close it. `acked` holds exactly the events whose send Kafka
 * acknowledged, which is what the ledger must end up holding.
 */
export interface Fleet {
  agentIds: string[];
  /** eventId -> what was signed, for every event Kafka acknowledged. */
  acked: Map<string, { agentId: string; seq: number; hash: string }>;
  /** Sends the SDK retried after a failure (a broker restart shows up here). */
  retries: number;
  /** Calls that gave up at the SDK deadline (their events stay queued in the client and are flushed on stop). */
  undelivered: number;
  /** Resolves once `n` more events have been acknowledged. */
  progress(n: number, timeoutMs?: number): Promise<void>;
  /** Stops starting new events, waits for every agent's last send, and flushes anything still queued. */
  stop(): Promise<void>;
  /** For cleanup after a failure: stops at once, abandoning retries. Does nothing after stop(). */
  abandon(): Promise<void>;
}

export interface FleetOptions {
  name: string;
  agents: number;
  /** Mean pause between one agent's events; keeps the load modest on a small machine. */
  pauseMs: number;
  /** The SDK's send deadline; long enough to ride out a broker restart. */
  deadlineMs?: number;
}

/** Ed25519 keys from Node's crypto: the same signatures as the SDK's tweetnacl keys, a fraction of the CPU. */
export function nodeAgentKey(agentId: string): AgentKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pk = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url'));
  return { agentId, keyId: keyIdFor(pk), publicKey: pk, sign: (m: Uint8Array) => new Uint8Array(nodeSign(null, m, privateKey)) };
}

export async function startFleet(h: Harness, pool: Pool, opts: FleetOptions): Promise<Fleet> {
  // As createAgentProducer() makes it, but with few retries inside kafkajs, so that a broker outage reaches the SDK,
  // whose own retries must then carry the fleet.
  const producer: Producer = h.kafka.producer({ idempotent: false, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 2 } });
  await producer.connect();
  const keys = Array.from({ length: opts.agents }, (_, i) => nodeAgentKey(`${h.config.topics.events}-${opts.name}-${String(i).padStart(3, '0')}`));
  for (const key of keys) await registerAgentKey(pool, { agentId: key.agentId, publicKey: key.publicKey });

  let stopping = false;
  let stopped = false;
  const abort = new AbortController();
  const fleet: Fleet = {
    agentIds: keys.map((k) => k.agentId),
    acked: new Map(),
    retries: 0,
    undelivered: 0,
    progress: async (n, timeoutMs = 180_000) => {
      const target = fleet.acked.size + n;
      await eventually(async () => (fleet.acked.size >= target ? true : undefined), timeoutMs, `${n} more acknowledged events from fleet ${opts.name}`);
    },
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
      for (const c of clients) for (const ev of await c.flush()) record(ev);
      stopped = true;
      await producer.disconnect();
    },
    abandon: async () => {
      if (stopped) return;
      stopping = stopped = true;
      abort.abort();
      await Promise.allSettled(loops);
      await producer.disconnect().catch(() => undefined);
    },
  };
  const record = (ev: SentEvent) => fleet.acked.set(ev.envelope.eventId, { agentId: ev.envelope.agentId, seq: ev.envelope.seq, hash: ev.hash });

  const clients = keys.map(
    (key) =>
      new AgentClient({
        key,
        producer,
        topic: h.config.topics.events,
        retry: { deadlineMs: opts.deadlineMs ?? 300_000 },
        onSendError: () => void (fleet.retries += 1),
        signal: abort.signal,
      }),
  );
  const pause = () => new Promise((r) => setTimeout(r, opts.pauseMs * (0.5 + Math.random())));
  /** One SDK call; an EventNotDelivered leaves the event queued in the client, to go out before the next one. */
  const send = async (call: () => Promise<SentEvent>) => {
    try {
      record(await call());
    } catch (e) {
      if (!(e instanceof EventNotDelivered)) throw e;
      fleet.undelivered += 1;
    }
    await pause();
  };
  const loops = clients.map(async (c, a) => {
    await new Promise((r) => setTimeout(r, Math.random() * opts.pauseMs)); // do not start in lockstep
    while (!stopping) {
      const intentId = `int_${randomUUID()}`;
      await send(async () => (await c.declareIntent({ intentId, task: 'reconcile the invoices', purpose: 'fault test', allowedTools: ['read_file', 'append_to_file'], allowedTargets: [{ kind: 'file', value: `invoices-${a}.txt` }], dataClasses: ['files'] })).event);
      for (let i = 0; i < 4 && !stopping; i++) {
        await send(async () => (await c.reportAction({ intentId, tool: 'append_to_file', args: { file_id: `invoices-${a}.txt`, content: `line ${i}` }, targets: [{ kind: 'file', value: `invoices-${a}.txt` }] })).event);
      }
      await send(() => c.closeIntent(intentId));
    }
  });
  // A loop that fails is reported by stop(); until then, do not let its rejection go unhandled.
  for (const l of loops) l.catch(() => undefined);
  return fleet;
}

import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { AgentKey } from './agentKey';
import type { Envelope, EventType, IntentDeclaredPayload, Target } from '../../schema/events';
import { signingBytes, eventHash, argsDigest } from '../../schema/events/digest';
import { encode as b64uEncode } from '../../schema/crypto/base64url';

export interface AgentClientOptions {
  key: AgentKey;
  producer: Producer;
  topic: string;
  clock?: () => Date;
  /** Resume a chain: the last sequence number and event hash this agent sent. */
  resume?: { seq: number; hash: string };
}

export interface SentEvent {
  envelope: Envelope;
  hash: string;
  bytes: Buffer;
}

export interface ActionReport {
  intentId: string | null;
  tool: string;
  args?: Record<string, unknown>;
  /** Leave the arguments out of the ledger and send only their digest. */
  redactArgs?: boolean;
  targets?: Target[];
  outcome?: 'ok' | 'error' | 'denied' | 'unknown';
  actionId?: string;
}

/**
 * The agent side of the ledger: builds, signs and sends the agent's events in order. Each agent's events form a
 * hash chain (seq, prevHash), and all go to one Kafka key (the agent id), so they stay in order on one partition.
 */
export class AgentClient {
  private seq: number;
  private prevHash: string | null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly clock: () => Date;

  constructor(private readonly opts: AgentClientOptions) {
    this.seq = opts.resume?.seq ?? 0;
    this.prevHash = opts.resume?.hash ?? null;
    this.clock = opts.clock ?? (() => new Date());
  }

  get agentId(): string {
    return this.opts.key.agentId;
  }

  /** Declares what the agent means to do. Returns the intent id that its actions must cite. */
  async declareIntent(
    intent: Omit<IntentDeclaredPayload, 'intentId' | 'window'> & { intentId?: string; validForMs?: number; window?: IntentDeclaredPayload['window'] },
  ): Promise<{ intentId: string; event: SentEvent }> {
    const now = this.clock();
    const intentId = intent.intentId ?? `int_${randomUUID()}`;
    const window = intent.window ?? {
      notBefore: now.toISOString(),
      notAfter: new Date(now.getTime() + (intent.validForMs ?? 15 * 60 * 1000)).toISOString(),
    };
    const payload: IntentDeclaredPayload = {
      intentId,
      task: intent.task,
      purpose: intent.purpose,
      allowedTools: intent.allowedTools,
      allowedTargets: intent.allowedTargets,
      dataClasses: intent.dataClasses,
      window,
    };
    const event = await this.emit('intent.declared', payload);
    return { intentId, event };
  }

  async reportAction(a: ActionReport): Promise<{ actionId: string; event: SentEvent }> {
    const args = a.args ?? {};
    const actionId = a.actionId ?? `act_${randomUUID()}`;
    const payload = {
      actionId,
      intentId: a.intentId,
      tool: a.tool,
      ...(a.redactArgs ? {} : { args }),
      argsDigest: argsDigest(args),
      targets: a.targets ?? [],
      outcome: a.outcome ?? 'ok',
    };
    return { actionId, event: await this.emit('action.reported', payload) };
  }

  async closeIntent(intentId: string, outcome: 'completed' | 'failed' | 'abandoned' = 'completed'): Promise<SentEvent> {
    return this.emit('intent.closed', { intentId, outcome });
  }

  /** Builds and signs the next envelope of the chain without sending it (tests and tools use this). */
  sign(type: EventType, payload: unknown): SentEvent {
    this.seq += 1;
    const unsigned = {
      v: 1 as const,
      eventId: `evt_${randomUUID()}`,
      type,
      agentId: this.opts.key.agentId,
      keyId: this.opts.key.keyId,
      seq: this.seq,
      prevHash: this.prevHash,
      ts: this.clock().toISOString(),
      payload,
    };
    const sig = b64uEncode(this.opts.key.sign(signingBytes(unsigned)));
    const envelope = { ...unsigned, sig } as Envelope;
    const hash = eventHash(envelope);
    this.prevHash = hash;
    return { envelope, hash, bytes: Buffer.from(JSON.stringify(envelope), 'utf8') };
  }

  private emit(type: EventType, payload: unknown): Promise<SentEvent> {
    // Serialise per agent: the chain's order is the send order.
    const next = this.queue.then(async () => {
      const sent = this.sign(type, payload);
      await this.opts.producer.send({
        topic: this.opts.topic,
        messages: [{ key: this.opts.key.agentId, value: sent.bytes, timestamp: String(Date.now()) }],
      });
      return sent;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}

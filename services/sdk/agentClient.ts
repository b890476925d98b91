import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { AgentKey } from './agentKey';
import type { ActionObservedPayload, AnalystActivityPayload, AuthorizationDecidedPayload, Envelope, EventType, IntentDeclaredPayload, Target } from '../../schema/events';
import type { ToolCatalogue } from '../../schema/catalogue';
import { authorize as evaluate, type Decision } from '../../consumers/reconciler/authorize';
import type { IntentView } from '../../consumers/reconciler/evaluateAction';
import { signingBytes, eventHash, argsDigest } from '../../schema/events/digest';
import { encode as b64uEncode } from '../../schema/crypto/base64url';
import { EventNotDelivered } from '../common/errors';

export interface AgentClientOptions {
  key: AgentKey;
  /** Shared by any number of agents; createAgentProducer() makes one that cannot lose an acknowledged event. */
  producer: Producer;
  topic: string;
  clock?: () => Date;
  /** Resume a chain: the last sequence number and event hash this agent sent. */
  resume?: { seq: number; hash: string };
  /** How a failed send is retried; see SendRetryPolicy. */
  retry?: Partial<SendRetryPolicy>;
  /** Called before each retry of a failed send (for logs and metrics). */
  onSendError?: (error: unknown, event: SentEvent, attempt: number) => void;
  /** Aborting it (at shutdown) ends any retrying at once: the call rejects with EventNotDelivered, the event stays queued. */
  signal?: AbortSignal;
  /**
   * Called synchronously with each event as soon as it is signed, before it is sent: a long-lived signer persists
   * its chain position here, so a restart resumes after the last event it signed and never forks its own chain.
   */
  onSigned?: (event: SentEvent) => void;
  /** The tool catalogue `authorize` judges with (the same the reconciler uses). */
  catalogue?: ToolCatalogue;
}

/**
 * A send that fails is retried with the same signed bytes, after a pause that doubles from `initialDelayMs` up to
 * `maxDelayMs` (with jitter), until it succeeds or `deadlineMs` has passed since the call began. Errors that no
 * retry can cure (the broker refuses the record's size, or the client is not authorised) are not retried.
 */
export interface SendRetryPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  deadlineMs: number;
}

export const DEFAULT_SEND_RETRY: SendRetryPolicy = { initialDelayMs: 100, maxDelayMs: 5_000, deadlineMs: 120_000 };

/** Kafka error types that are a property of the record or the client, not of the moment. */
const PERMANENT_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'INVALID_TOPIC_EXCEPTION',
]);

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
 *
 * A signed event is part of the chain for good: if its send fails it stays queued and is sent again, byte for
 * byte, before anything signed after it. It is never re-signed (that would fork the chain) and never skipped (that
 * would leave a gap the ledger must report as possible concealment).
 */
export class AgentClient {
  private seq: number;
  private prevHash: string | null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly clock: () => Date;
  private readonly retry: SendRetryPolicy;
  /** Signed events Kafka has not yet acknowledged, oldest first, with the record timestamp of their first send. */
  private readonly outbox: Array<{ event: SentEvent; timestamp: string }> = [];
  /** The intents this client declared, for `authorize` (closed ones stay, so their late actions are denied). */
  private readonly intents = new Map<string, { payload: IntentDeclaredPayload; declaredAt: Date; status: 'open' | 'closed'; actions: number }>();

  constructor(private readonly opts: AgentClientOptions) {
    this.seq = opts.resume?.seq ?? 0;
    this.prevHash = opts.resume?.hash ?? null;
    this.clock = opts.clock ?? (() => new Date());
    this.retry = { ...DEFAULT_SEND_RETRY, ...opts.retry };
  }

  /** Signed events not yet acknowledged by Kafka (they go out before any new event). */
  get pending(): number {
    return this.outbox.length;
  }

  /**
   * Sends whatever is still queued after a failure. Resolves with the events it delivered; rejects with
   * EventNotDelivered (naming the oldest event that could not be sent) when the deadline passes again.
   */
  flush(): Promise<SentEvent[]> {
    const next = this.queue.then(() => this.deliver());
    this.queue = next.catch(() => undefined);
    return next;
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
      ...(intent.openTargets ? { openTargets: intent.openTargets } : {}),
      window,
      ...(intent.maxActions !== undefined ? { maxActions: intent.maxActions } : {}),
      ...(intent.parentIntentId !== undefined ? { parentIntentId: intent.parentIntentId } : {}),
      ...(intent.approvalRef !== undefined ? { approvalRef: intent.approvalRef } : {}),
    };
    const event = await this.emit('intent.declared', payload);
    this.intents.set(intentId, { payload, declaredAt: new Date(event.envelope.ts), status: 'open', actions: 0 });
    return { intentId, event };
  }

  /**
   * Asks, before a tool runs, whether the action fits the intent this agent declared: the reconciler's own
   * evaluator, on the agent's side. The decision is recorded as a signed authorization.decided event (so a denied
   * call the agent makes anyway is on the record twice). It judges the agent's own intent only: an intent
   * delegated from another agent's is judged against the whole chain by the authorisation service
   * (services/authz), which a gateway should ask instead. Unknown intents are denied.
   */
  async authorize(a: { intentId: string | null; tool: string; args?: Record<string, unknown>; targets?: Target[] }): Promise<Decision & { decisionId: string; event: SentEvent }> {
    if (!this.opts.catalogue) throw new TypeError('AgentClient.authorize needs the `catalogue` option (the tool catalogue the reconciler uses)');
    const local = a.intentId === null ? undefined : this.intents.get(a.intentId);
    const chain: IntentView[] | null = local
      ? [{
          intentId: local.payload.intentId, agentId: this.agentId, allowedTools: local.payload.allowedTools, allowedTargets: local.payload.allowedTargets,
          openTargets: local.payload.openTargets, dataClasses: local.payload.dataClasses, notBefore: new Date(local.payload.window.notBefore),
          notAfter: new Date(local.payload.window.notAfter), status: local.status, declaredAt: local.declaredAt, maxActions: local.payload.maxActions ?? null,
        }]
      : null;
    const decision = evaluate(chain, { agentId: this.agentId, intentId: a.intentId, tool: a.tool, args: a.args, targets: a.targets, at: this.clock() }, this.opts.catalogue, local?.actions ?? 0);
    const recorded = await this.recordDecision({ subjectAgentId: this.agentId, intentId: a.intentId, tool: a.tool, args: a.args ?? {}, decision });
    return { ...decision, ...recorded };
  }

  /** Records a request-time decision as this signer's own event (the agent for itself, or a service for an agent). */
  async recordDecision(d: { subjectAgentId: string; intentId: string | null; tool: string; args: Record<string, unknown>; decision: Decision }): Promise<{ decisionId: string; event: SentEvent }> {
    const decisionId = `dec_${randomUUID()}`;
    const payload: AuthorizationDecidedPayload = {
      decisionId,
      subjectAgentId: d.subjectAgentId,
      intentId: d.intentId,
      tool: d.tool,
      argsDigest: argsDigest(d.args),
      targets: d.decision.targets.slice(0, 256),
      decision: d.decision.decision,
      reasons: d.decision.reasons.slice(0, 64).map((r) => ({ code: r.code, severity: r.severity, detail: r.detail.slice(0, 4096) })),
    };
    return { decisionId, event: await this.emit('authorization.decided', payload) };
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
    const event = await this.emit('action.reported', payload);
    const local = a.intentId === null ? undefined : this.intents.get(a.intentId);
    if (local) local.actions += 1;
    return { actionId, event };
  }

  /**
   * For a tool gateway: records a call it saw and let through, about another agent (`subjectAgentId`). Signed with
   * this client's key, which must be registered with the gateway role for the reconciler to believe it.
   */
  async observeAction(o: Omit<ActionObservedPayload, 'observationId'> & { observationId?: string }): Promise<SentEvent> {
    return this.emit('action.observed', { ...o, observationId: o.observationId ?? `obs_${randomUUID()}` });
  }

  async closeIntent(intentId: string, outcome: 'completed' | 'failed' | 'abandoned' = 'completed'): Promise<SentEvent> {
    const event = await this.emit('intent.closed', { intentId, outcome });
    const local = this.intents.get(intentId);
    if (local) local.status = 'closed';
    return event;
  }

  /** Records what an analyst did through the API (the API service signs these). */
  async recordActivity(payload: AnalystActivityPayload): Promise<{ event: SentEvent }> {
    return { event: await this.emit('analyst.activity', payload) };
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
    const sent = { envelope, hash, bytes: Buffer.from(JSON.stringify(envelope), 'utf8') };
    this.opts.onSigned?.(sent);
    return sent;
  }

  private emit(type: EventType, payload: unknown): Promise<SentEvent> {
    // Serialise per agent: the chain's order is the send order.
    const next = this.queue.then(async () => {
      const sent = this.sign(type, payload);
      this.outbox.push({ event: sent, timestamp: String(Date.now()) });
      await this.deliver();
      return sent;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Sends the outbox in order; stops at the first event that cannot be delivered, leaving it and the rest queued. */
  private async deliver(): Promise<SentEvent[]> {
    const deadline = Date.now() + this.retry.deadlineMs;
    const delivered: SentEvent[] = [];
    while (this.outbox.length > 0) {
      const head = this.outbox[0]!;
      await this.sendWithRetry(head.event, head.timestamp, deadline);
      this.outbox.shift();
      delivered.push(head.event);
    }
    return delivered;
  }

  private async sendWithRetry(event: SentEvent, timestamp: string, deadline: number): Promise<void> {
    let delay = this.retry.initialDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.opts.producer.send({ topic: this.opts.topic, messages: [{ key: this.opts.key.agentId, value: event.bytes, timestamp }] });
        return;
      } catch (e) {
        const wait = delay * (0.8 + 0.4 * Math.random());
        if (isPermanent(e) || this.opts.signal?.aborted || Date.now() + wait > deadline) {
          throw new EventNotDelivered(event, e, attempt, this.outbox.length);
        }
        this.opts.onSendError?.(e, event, attempt);
        await pause(wait, this.opts.signal);
        if (this.opts.signal?.aborted) throw new EventNotDelivered(event, e, attempt, this.outbox.length);
        delay = Math.min(delay * 2, this.retry.maxDelayMs);
      }
    }
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** kafkajs wraps the broker's error (in `cause`, or in `errors` for several brokers); any permanent one decides. */
function isPermanent(e: unknown): boolean {
  const seen = new Set<unknown>();
  const todo = [e];
  while (todo.length > 0) {
    const x = todo.pop() as { type?: unknown; cause?: unknown; errors?: unknown } | null | undefined;
    if (x === null || typeof x !== 'object' || seen.has(x)) continue;
    seen.add(x);
    if (typeof x.type === 'string' && PERMANENT_ERRORS.has(x.type)) return true;
    todo.push(x.cause);
    if (Array.isArray(x.errors)) todo.push(...x.errors);
  }
  return false;
}

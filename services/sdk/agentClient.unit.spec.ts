import type { Producer, ProducerRecord } from 'kafkajs';
import { AgentClient, createAgentKey, EventNotDelivered, SentEvent } from './index';

/** A stand-in for the kafkajs producer: records every attempt and fails the ones `fail` says to. */
function fakeProducer(fail: (attempt: number, value: Buffer) => unknown | undefined) {
  const attempts: Array<{ key: string; value: Buffer; timestamp: string | undefined }> = [];
  const acked: Buffer[] = [];
  const producer = {
    async send(record: ProducerRecord) {
      const m = record.messages[0]!;
      attempts.push({ key: String(m.key), value: m.value as Buffer, timestamp: m.timestamp });
      await new Promise((r) => setImmediate(r));
      const error = fail(attempts.length, m.value as Buffer);
      if (error !== undefined) throw error;
      acked.push(m.value as Buffer);
      return [];
    },
  } as unknown as Producer;
  return { producer, attempts, acked };
}

const retriable = () => Object.assign(new Error('Connection error: ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true });
const key = createAgentKey('agent-retry', new Uint8Array(32).fill(9));
const fast = { initialDelayMs: 1, maxDelayMs: 4, deadlineMs: 10_000 };
const closeIntent = (c: AgentClient, n: number) => c.closeIntent(`int_${n}`);
const seqs = (bufs: Buffer[]) => bufs.map((b) => JSON.parse(b.toString()).seq as number);

describe('AgentClient: a failed send', () => {
  it('is retried with the same signed bytes, key and record timestamp, and the chain does not move on', async () => {
    const k = fakeProducer((n) => (n <= 3 ? retriable() : undefined));
    const retried: number[] = [];
    const c = new AgentClient({ key, producer: k.producer, topic: 't', retry: fast, onSendError: (_e, _ev, attempt) => retried.push(attempt) });
    const first = await closeIntent(c, 1);
    expect(k.attempts).toHaveLength(4);
    expect(retried).toEqual([1, 2, 3]);
    for (const a of k.attempts) {
      expect(a.value.equals(first.bytes)).toBe(true);
      expect(a.key).toBe('agent-retry');
      expect(a.timestamp).toBe(k.attempts[0]!.timestamp);
    }
    const second = await closeIntent(c, 2);
    expect(second.envelope.seq).toBe(2);
    expect(second.envelope.prevHash).toBe(first.hash);
    expect(seqs(k.acked)).toEqual([1, 2]);
  });

  it('keeps per-agent order when events are reported without waiting for each other', async () => {
    const k = fakeProducer((n) => (n === 1 || n === 2 || n === 5 ? retriable() : undefined));
    const c = new AgentClient({ key, producer: k.producer, topic: 't', retry: fast });
    const sent = await Promise.all([1, 2, 3, 4].map((n) => closeIntent(c, n)));
    expect(seqs(k.attempts.map((a) => a.value))).toEqual([1, 1, 1, 2, 3, 3, 4]);
    expect(seqs(k.acked)).toEqual([1, 2, 3, 4]);
    sent.forEach((ev, i) => {
      expect(ev.envelope.seq).toBe(i + 1);
      expect(ev.envelope.prevHash).toBe(i === 0 ? null : sent[i - 1]!.hash);
    });
  });

  it('gives up at the deadline with EventNotDelivered, keeps the event queued, and sends it first when Kafka is back', async () => {
    let down = true;
    const k = fakeProducer(() => (down ? retriable() : undefined));
    const c = new AgentClient({ key, producer: k.producer, topic: 't', retry: { initialDelayMs: 5, maxDelayMs: 10, deadlineMs: 60 } });
    const failure = await closeIntent(c, 1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(EventNotDelivered);
    const stuck = (failure as EventNotDelivered).event as SentEvent;
    expect(stuck.envelope.seq).toBe(1);
    expect(k.attempts.length).toBeGreaterThan(1);
    expect(c.pending).toBe(1);

    // Still down: the next report is signed behind the stuck event and queued too; nothing is skipped.
    await expect(closeIntent(c, 2)).rejects.toBeInstanceOf(EventNotDelivered);
    expect(c.pending).toBe(2);
    expect(new Set(k.attempts.map((a) => a.value.toString()))).toEqual(new Set([stuck.bytes.toString()]));

    down = false;
    const delivered = await c.flush();
    expect(delivered.map((e) => e.envelope.seq)).toEqual([1, 2]);
    expect(delivered[0]!.bytes.equals(stuck.bytes)).toBe(true);
    expect(delivered[1]!.envelope.prevHash).toBe(stuck.hash);
    expect(c.pending).toBe(0);
    const third = await closeIntent(c, 3);
    expect(third.envelope.seq).toBe(3);
    expect(seqs(k.acked)).toEqual([1, 2, 3]);
  });

  it('stops retrying at once when its signal is aborted (shutdown), keeping the event queued', async () => {
    const k = fakeProducer(() => retriable());
    const abort = new AbortController();
    const c = new AgentClient({ key, producer: k.producer, topic: 't', retry: { initialDelayMs: 60_000, maxDelayMs: 60_000, deadlineMs: 600_000 }, signal: abort.signal });
    const call = closeIntent(c, 1).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    abort.abort();
    expect(await call).toBeInstanceOf(EventNotDelivered);
    expect(k.attempts).toHaveLength(1);
    expect(c.pending).toBe(1);
  });

  it('does not retry what no retry can cure (the broker refusing the record size), and keeps the event queued', async () => {
    // kafkajs wraps the broker's error: KafkaJSNonRetriableError { cause: KafkaJSProtocolError { type } }.
    const tooLarge = () => {
      const cause = Object.assign(new Error('The request included a message larger than the max message size'), { name: 'KafkaJSProtocolError', type: 'MESSAGE_TOO_LARGE', retriable: false });
      return Object.assign(new Error(cause.message), { name: 'KafkaJSNonRetriableError', retriable: false, cause });
    };
    const k = fakeProducer(() => tooLarge());
    const c = new AgentClient({ key, producer: k.producer, topic: 't', retry: fast });
    const e = await closeIntent(c, 1).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EventNotDelivered);
    expect((e as EventNotDelivered).attempts).toBe(1);
    expect(k.attempts).toHaveLength(1);
    expect(c.pending).toBe(1);
  });
});

describe('AgentClient.declareIntent', () => {
  const base = { task: 't', purpose: 'p', allowedTools: ['get_users_in_channel'], allowedTargets: [], dataClasses: ['messages'] };
  it('signs openTargets into the payload when given, and leaves the field out otherwise', async () => {
    const k = fakeProducer(() => undefined);
    const c = new AgentClient({ key, producer: k.producer, topic: 't', retry: fast });
    const open = [{ tool: 'get_users_in_channel', kind: 'channel' }];
    const withOpen = await c.declareIntent({ ...base, openTargets: open });
    const without = await c.declareIntent(base);
    expect((withOpen.event.envelope.payload as Record<string, unknown>).openTargets).toEqual(open);
    expect(without.event.envelope.payload).not.toHaveProperty('openTargets');
  });
});

import { createHash, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Admin, Consumer, IHeaders } from 'kafkajs';
import type { IngestMetrics } from '../consumers/ingest';
import { createHarness, eventually, Harness } from './pipelineHarness';
import { AgentClient, AgentKey, createAgentKey, SentEvent } from '../services/sdk';
import { registerAgentKey, retireAgentKey } from '../services/registry';
import { KeyRegistrationRefused } from '../services/common/errors';
import { signingBytes, eventHash } from '../schema/events/digest';
import { encode as b64u, decode as b64uDecode } from '../schema/crypto/base64url';
import { checkPublicKey, GROUP_ORDER } from '../schema/crypto/ed25519';
import type { ReasonCode } from '../schema/reasons';

/**
 * Every kind of bad input the ingest path must survive, each sent as real bytes through the real events topic. For
 * each record the test checks where it ended (a ledger row, or a rejected row with its exact reason code and its
 * bytes unchanged, and its dead-letter copy), the integrity findings it caused, the ingest metrics, and that the
 * partition still moves: a valid event sent after it, to the same partition, is ledgered.
 */

const MAX_DEPTH = 8;
const SKEW_MS = 60_000;
const MAX_EVENT_BYTES = 256 * 1024; // the default: the TOO_LARGE records sit between it and the broker's own limit

interface At {
  partition: number;
  offset: string;
}

interface Crafted {
  envelope: Record<string, unknown>;
  bytes: Buffer;
  hash: string;
}

type MetricsSnapshot = ReturnType<IngestMetrics['snapshot']>;

describe('bad input through the real events topic: a reason for each, nothing lost, no partition stuck', () => {
  let h: Harness;
  let dlqConsumer: Consumer;
  let admin: Admin;
  const dlq = new Map<string, { value: Buffer | null; headers: Record<string, string> }>();
  const probes = new Map<number, AgentClient>();
  let probesSent = 0;

  beforeAll(async () => {
    h = await createHarness({ IL_MAX_JSON_DEPTH: String(MAX_DEPTH), IL_CLOCK_SKEW_MS: String(SKEW_MS) });
    expect(h.config.maxEventBytes).toBe(MAX_EVENT_BYTES);
    dlqConsumer = h.kafka.consumer({ groupId: `${h.config.topics.deadLetter}.watch` });
    await dlqConsumer.connect();
    await dlqConsumer.subscribe({ topic: h.config.topics.deadLetter, fromBeginning: true });
    await dlqConsumer.run({
      eachMessage: async ({ message }) => {
        const headers = stringHeaders(message.headers);
        dlq.set(headers.source ?? '', { value: message.value, headers });
      },
    });
    admin = h.kafka.admin();
    await admin.connect();
    const ingest = await h.startIngest();
    await ingest.joined;
  });

  afterAll(async () => {
    await dlqConsumer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await h?.stop();
  });

  // --- helpers -------------------------------------------------------------------------------------------------

  async function newAgent(name: string, register = true): Promise<{ key: AgentKey; client: AgentClient }> {
    const key = createAgentKey(`${h.config.topics.events}-${name}-${randomUUID().slice(0, 8)}`);
    if (register) await registerAgentKey(h.pool, { agentId: key.agentId, publicKey: key.publicKey });
    return { key, client: new AgentClient({ key, producer: h.producer, topic: h.config.topics.events }) };
  }

  /** An envelope built and signed by hand, so that any field (ts, seq, prevHash, sig) can be what a test needs. */
  function craft(key: AgentKey, fields: Record<string, unknown> = {}, sign: (unsigned: Record<string, unknown>) => Uint8Array = (u) => key.sign(signingBytes(u))): Crafted {
    const unsigned: Record<string, unknown> = {
      v: 1,
      eventId: `evt_${randomUUID()}`,
      type: 'intent.closed',
      agentId: key.agentId,
      keyId: key.keyId,
      seq: 1,
      prevHash: null,
      ts: new Date().toISOString(),
      payload: { intentId: 'int_bad_input', outcome: 'completed' },
      ...fields,
    };
    const envelope = { ...unsigned, sig: b64u(sign(unsigned)) };
    return { envelope, bytes: Buffer.from(JSON.stringify(envelope)), hash: eventHash(envelope) };
  }

  async function produce(value: Buffer | null, key: string | null = 'bad-input', partition?: number): Promise<At> {
    const [md] = await h.producer.send({
      topic: h.config.topics.events,
      messages: [{ key, value, ...(partition === undefined ? {} : { partition }) }],
    });
    return { partition: md!.partition, offset: md!.baseOffset! };
  }

  /**
   * A valid event to the same partition, after whatever was sent there. Once it is ledgered and the ingest group's
   * committed offset has passed it, the partition has moved on: nothing before it is stuck or waiting for a retry.
   */
  async function probe(partition: number): Promise<void> {
    let agent = probes.get(partition);
    if (!agent) {
      agent = (await newAgent(`probe-p${partition}`)).client;
      probes.set(partition, agent);
    }
    const ev = agent.sign('intent.closed', { intentId: `int_probe_${partition}`, outcome: 'completed' });
    probesSent += 1;
    const at = await produce(ev.bytes, agent.agentId, partition);
    const what = `probe on partition ${partition} (is the partition stuck?)`;
    await eventually(async () => (await h.pool.query('SELECT 1 FROM ledger_events WHERE event_id = $1', [ev.envelope.eventId])).rows[0], 60_000, what);
    await eventually(async () => {
      const [t] = await admin.fetchOffsets({ groupId: h.config.ingestGroup, topics: [h.config.topics.events] });
      const committed = t!.partitions.find((x) => x.partition === partition)?.offset ?? '-1';
      return BigInt(committed) > BigInt(at.offset) ? true : undefined;
    }, 60_000, `committed offset past the ${what}`);
  }

  /** Probes every partition these records went to. */
  async function settle(...ats: At[]): Promise<void> {
    for (const p of new Set(ats.map((a) => a.partition))) await probe(p);
  }

  function mark(): { metrics: MetricsSnapshot; probes: number } {
    return { metrics: h.ingest!.metrics.snapshot(), probes: probesSent };
  }

  /** The ingest metrics moved by exactly this much since `before` (probes are added to `ledgered` here). */
  async function expectMetrics(before: ReturnType<typeof mark>, want: { ledgered?: number; rejected?: Partial<Record<ReasonCode, number>>; clockSkew?: number }) {
    const rejectedByReason = want.rejected ?? {};
    const expected = {
      ledgered: (want.ledgered ?? 0) + (probesSent - before.probes),
      rejected: Object.values(rejectedByReason).reduce((a, b) => a + (b ?? 0), 0),
      replays: (rejectedByReason.DUPLICATE_EVENT ?? 0) + (rejectedByReason.SEQ_REPLAY ?? 0),
      clockSkewFlagged: want.clockSkew ?? 0,
      rejectedByReason,
    };
    const delta = () => {
      const now = h.ingest!.metrics.snapshot();
      const b = before.metrics;
      const byReason: Partial<Record<ReasonCode, number>> = {};
      for (const [r, n] of Object.entries(now.rejectedByReason) as Array<[ReasonCode, number]>) {
        const d = n - (b.rejectedByReason[r] ?? 0);
        if (d !== 0) byReason[r] = d;
      }
      return { ledgered: now.ledgered - b.ledgered, rejected: now.rejected - b.rejected, replays: now.replays - b.replays, clockSkewFlagged: now.clockSkewFlagged - b.clockSkewFlagged, rejectedByReason: byReason };
    };
    // Metrics move right after the transaction commits, which can be a moment after the rows are visible.
    let last = delta();
    await eventually(async () => ((last = delta()), isDeepStrictEqual(last, expected) ? true : undefined), 10_000, 'metrics').catch(() => undefined);
    expect(last).toEqual(expected);
  }

  async function rowsAt(at: At) {
    const where = 'kafka_topic = $1 AND kafka_partition = $2 AND kafka_offset = $3';
    const args = [h.config.topics.events, at.partition, at.offset];
    const ledger = (await h.pool.query(`SELECT event_id, agent_id, seq, event_hash, raw, raw_sha256 FROM ledger_events WHERE ${where}`, args)).rows;
    const rejected = (await h.pool.query(`SELECT reason_code, detail, raw, raw_sha256, agent_id, event_id, kafka_key FROM rejected_events WHERE ${where}`, args)).rows;
    return { ledger, rejected };
  }

  /** The record at `at` is in rejected_events (and only there) with this reason and these exact bytes, and in the dead-letter topic. */
  async function expectRejected(at: At, raw: Buffer | null, reason: ReasonCode, ids: { agentId?: string | null; eventId?: string | null; detail?: RegExp } = {}) {
    const bytes = raw ?? Buffer.alloc(0);
    const { ledger, rejected } = await rowsAt(at);
    expect(ledger).toEqual([]);
    expect(rejected).toHaveLength(1);
    const row = rejected[0];
    expect(row.reason_code).toBe(reason);
    expect(Buffer.compare(row.raw, bytes)).toBe(0);
    expect(Buffer.compare(row.raw_sha256, createHash('sha256').update(bytes).digest())).toBe(0);
    if (ids.agentId !== undefined) expect(row.agent_id).toBe(ids.agentId);
    if (ids.eventId !== undefined) expect(row.event_id).toBe(ids.eventId);
    if (ids.detail) expect(row.detail).toMatch(ids.detail);
    const source = `${h.config.topics.events}/${at.partition}/${at.offset}`;
    const dead = await eventually(async () => dlq.get(source), 30_000, `dead-letter copy of ${source}`);
    expect(dead.headers.reason).toBe(reason);
    if (bytes.length <= MAX_EVENT_BYTES) {
      expect(Buffer.compare(dead.value ?? Buffer.alloc(0), bytes)).toBe(0);
    } else {
      // Too large to copy safely: the headers point at rejected_events, which has the bytes.
      expect(dead.value).toBeNull();
      expect(dead.headers['raw-bytes']).toBe(String(bytes.length));
      expect(dead.headers['raw-sha256']).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    return row;
  }

  async function expectLedgered(at: At, ev: { bytes: Buffer; hash: string; envelope: object }) {
    const env = ev.envelope as { eventId: string; seq: number };
    const { ledger, rejected } = await rowsAt(at);
    expect(rejected).toEqual([]);
    expect(ledger).toHaveLength(1);
    expect(ledger[0].event_id).toBe(env.eventId);
    expect(Number(ledger[0].seq)).toBe(env.seq);
    expect(ledger[0].event_hash).toBe(ev.hash);
    expect(Buffer.compare(ledger[0].raw, ev.bytes)).toBe(0);
  }

  async function ledgerCount(eventId: string): Promise<number> {
    return (await h.pool.query('SELECT count(*)::int AS n FROM ledger_events WHERE event_id = $1', [eventId])).rows[0].n;
  }

  async function findings(agentId: string) {
    return (await h.pool.query('SELECT reason_code, severity, event_id, expected_seq, observed_seq FROM integrity_findings WHERE agent_id = $1 ORDER BY id', [agentId])).rows.map((r) => ({
      ...r,
      expected_seq: r.expected_seq === null ? null : Number(r.expected_seq),
      observed_seq: r.observed_seq === null ? null : Number(r.observed_seq),
    }));
  }

  /** One bad record, then a probe; checks its row, its dead letter and the metrics. */
  async function rejectOne(raw: Buffer | null, reason: ReasonCode, ids: { key?: string | null; agentId?: string | null; eventId?: string | null; detail?: RegExp } = {}) {
    const before = mark();
    const at = await produce(raw, ids.key === undefined ? 'bad-input' : ids.key);
    await settle(at);
    const row = await expectRejected(at, raw, reason, ids);
    await expectMetrics(before, { rejected: { [reason]: 1 } });
    return row;
  }

  // --- bytes that are not an acceptable JSON document ----------------------------------------------------------

  describe('bytes that are not an acceptable JSON document', () => {
    let valid: Crafted;
    let text: string;
    beforeAll(async () => {
      const { key } = await newAgent('json');
      valid = craft(key);
      text = valid.bytes.toString('utf8');
    });

    it('not JSON: MALFORMED_JSON', async () => {
      await rejectOne(Buffer.from('{"eventId": "evt_x", oops'), 'MALFORMED_JSON');
      await rejectOne(Buffer.from(text.slice(0, -1)), 'MALFORMED_JSON'); // a signed envelope cut short
      await rejectOne(Buffer.from('\ufeff' + text), 'MALFORMED_JSON'); // byte order mark
    });

    it('a record without a value (tombstone): MALFORMED_JSON, kept as zero bytes', async () => {
      await rejectOne(null, 'MALFORMED_JSON', { detail: /no value/ });
    });

    it('bytes that are not UTF-8: INVALID_UTF8', async () => {
      await rejectOne(Buffer.concat([Buffer.from('{"task":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 'INVALID_UTF8');
    });

    it('JSON with duplicate keys: DUPLICATE_KEY, even when the duplicate repeats the same value', async () => {
      const env = valid.envelope;
      // A second "seq" ahead of the signed one: two readers could disagree about which one counts.
      await rejectOne(Buffer.from(`{"seq":${Number(env.seq) + 1},` + text.slice(1)), 'DUPLICATE_KEY', { agentId: null });
      await rejectOne(Buffer.from(text.slice(0, -1) + `,"agentId":${JSON.stringify(env.agentId)}}`), 'DUPLICATE_KEY');
      await rejectOne(Buffer.from(text.replace('"payload":{', '"payload":{"outcome":"failed",')), 'DUPLICATE_KEY', { detail: /outcome/ });
    });

    it(`nesting deeper than IL_MAX_JSON_DEPTH (${MAX_DEPTH}): TOO_DEEP; exactly at the limit is ledgered`, async () => {
      const { key, client } = await newAgent('deep');
      const nested = (levels: number): Record<string, unknown> => (levels === 0 ? { leaf: true } : { n: nested(levels - 1) });
      const action = (levels: number) => ({ actionId: 'act_deep', intentId: null, tool: 'noop', args: nested(levels), argsDigest: '0'.repeat(64), targets: [], outcome: 'ok' });
      // envelope (1) > payload (2) > args (3) > n ... : args at depth 3, each level one more.
      const atLimit = client.sign('action.reported', action(MAX_DEPTH - 3));
      expect(depth(atLimit.envelope)).toBe(MAX_DEPTH);
      const tooDeep = craft(key, { seq: 2, prevHash: atLimit.hash, type: 'action.reported', payload: action(MAX_DEPTH - 2) });
      expect(depth(tooDeep.envelope)).toBe(MAX_DEPTH + 1);
      const before = mark();
      const a1 = await produce(atLimit.bytes, key.agentId);
      const a2 = await produce(tooDeep.bytes, key.agentId);
      const a3 = await produce(Buffer.from('['.repeat(10_000) + ']'.repeat(10_000)), key.agentId); // deep enough to hurt a recursive parser
      await settle(a1, a2, a3);
      await expectLedgered(a1, atLimit);
      await expectRejected(a2, tooDeep.bytes, 'TOO_DEEP', { agentId: null });
      await expectRejected(a3, Buffer.from('['.repeat(10_000) + ']'.repeat(10_000)), 'TOO_DEEP');
      await expectMetrics(before, { ledgered: 1, rejected: { TOO_DEEP: 2 } });
    });

    it('a signed event over IL_MAX_EVENT_BYTES but under the broker limit: TOO_LARGE, bytes kept in full', async () => {
      const { key } = await newAgent('large');
      const big = craft(key, { type: 'action.reported', payload: { actionId: 'act_big', intentId: null, tool: 'upload', args: { blob: 'x'.repeat(300 * 1024) }, argsDigest: '0'.repeat(64), targets: [], outcome: 'ok' } });
      expect(big.bytes.length).toBeGreaterThan(MAX_EVENT_BYTES);
      expect(big.bytes.length).toBeLessThan(1_000_000);
      const row = await rejectOne(big.bytes, 'TOO_LARGE', { key: key.agentId });
      expect(row.detail).toContain(String(MAX_EVENT_BYTES));
      // One byte at the limit is still fine as far as size goes (it is simply not an envelope).
      await rejectOne(Buffer.alloc(MAX_EVENT_BYTES, 0x20), 'MALFORMED_JSON');
      await rejectOne(Buffer.alloc(MAX_EVENT_BYTES + 1, 0x20), 'TOO_LARGE');
    });

    it('the largest record the broker accepts: TOO_LARGE, and its dead letter (which would not fit) does not stall the partition', async () => {
      // Find the broker's limit for a record with this key by trying sizes on the dead-letter topic (nothing
      // ledgers from it); the same record on the events topic then fits exactly, and a copy with headers would not.
      const key = 'largest-record';
      let lo = 900_000;
      let hi = 1_100_000;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        const ok = await h.producer
          .send({ topic: h.config.topics.deadLetter, messages: [{ key, value: Buffer.alloc(mid, 0x20) }] })
          .then(() => true, () => false);
        if (ok) lo = mid;
        else hi = mid;
      }
      expect(lo).toBeGreaterThan(MAX_EVENT_BYTES);
      await rejectOne(Buffer.alloc(lo, 0x20), 'TOO_LARGE', { key });
    });

    it('numbers JSON cannot carry exactly: NUMBER_NOT_EXACT for overflow and integers past 2^53, MALFORMED_JSON for NaN/Infinity', async () => {
      const at = (s: string) => Buffer.from(text.replace('"payload":{', `"payload":{"n":${s},`));
      await rejectOne(at('1e400'), 'NUMBER_NOT_EXACT', { detail: /overflows/ });
      await rejectOne(at('-1e400'), 'NUMBER_NOT_EXACT');
      await rejectOne(at('1e-400'), 'NUMBER_NOT_EXACT', { detail: /underflows/ });
      // In a signed field: a seq one past 2^53 would read back as 2^53, another event's number.
      await rejectOne(Buffer.from(text.replace(/"seq":\d+/, '"seq":9007199254740993')), 'NUMBER_NOT_EXACT');
      await rejectOne(Buffer.from(text.replace(/"seq":\d+/, '"seq":-9007199254740993')), 'NUMBER_NOT_EXACT');
      await rejectOne(at('NaN'), 'MALFORMED_JSON');
      await rejectOne(at('Infinity'), 'MALFORMED_JSON');
      await rejectOne(at('-Infinity'), 'MALFORMED_JSON');
    });

    it('lone surrogates: LONE_SURROGATE when escaped, INVALID_UTF8 when encoded raw', async () => {
      const { key } = await newAgent('surrogate');
      const withTask = (task: string) => craft(key, { type: 'intent.declared', payload: { intentId: 'int_s', task, purpose: 'p', allowedTools: ['t'], allowedTargets: [], dataClasses: [], window: { notBefore: '2026-01-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z' } } });
      const base = withTask('PLACEHOLDER').bytes.toString('utf8');
      await rejectOne(Buffer.from(base.replace('PLACEHOLDER', '\\ud800')), 'LONE_SURROGATE'); // high half alone
      await rejectOne(Buffer.from(base.replace('PLACEHOLDER', '\\udc00x')), 'LONE_SURROGATE'); // low half alone
      await rejectOne(Buffer.from(base.replace('PLACEHOLDER', '\\ud800\\u0041')), 'LONE_SURROGATE'); // high half, then not a low one
      const [pre, post] = base.split('PLACEHOLDER') as [string, string];
      await rejectOne(Buffer.concat([Buffer.from(pre), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(post)]), 'INVALID_UTF8'); // U+D800 as UTF-8 bytes
      // A correctly paired surrogate (an emoji) is fine.
      const fine = withTask('\ud83d\ude00 ok');
      const before = mark();
      const a = await produce(fine.bytes, key.agentId);
      await settle(a);
      await expectLedgered(a, fine);
      await expectMetrics(before, { ledgered: 1 });
    });

    it('U+0000 in a string (which Postgres text and jsonb cannot hold): SCHEMA_INVALID, not a stuck partition', async () => {
      const { key } = await newAgent('nul');
      const nul = craft(key, { type: 'action.reported', payload: { actionId: 'act_nul', intentId: null, tool: 'write', args: { s: 'a\u0000b' }, argsDigest: '0'.repeat(64), targets: [], outcome: 'ok' } });
      await rejectOne(nul.bytes, 'SCHEMA_INVALID', { key: key.agentId, agentId: key.agentId, eventId: nul.envelope.eventId as string, detail: /U\+0000/ });
      const nulKey = craft(key, { type: 'action.reported', payload: { actionId: 'act_nul', intentId: null, tool: 'write', args: { 'k\u0000': 1 }, argsDigest: '0'.repeat(64), targets: [], outcome: 'ok' } });
      await rejectOne(nulKey.bytes, 'SCHEMA_INVALID', { detail: /U\+0000/ });
      // An agent id with U+0000 is not recorded as the rejected row's agent (it is not an id).
      await rejectOne(Buffer.from('{"agentId":"a\\u0000b","eventId":"evt_\\u0000"}'), 'SCHEMA_INVALID', { agentId: null, eventId: null });
    });
  });

  // --- timestamps ----------------------------------------------------------------------------------------------

  describe('timestamps', () => {
    it.each([
      ['a numeric offset instead of Z', '2026-01-01T00:00:00+02:00'],
      ['a lower-case z', '2026-01-01T00:00:00z'],
      ['a space instead of T', '2026-01-01 00:00:00Z'],
      ['no zone at all', '2026-01-01T00:00:00'],
      ['microseconds (more precision than the ledger keeps)', '2026-01-01T00:00:00.123456Z'],
      ['a date only', '2026-01-01'],
      ['epoch milliseconds', 1767225600000],
      ['30 February', '2026-02-30T00:00:00Z'],
      ['29 February of a common year', '2025-02-29T12:00:00Z'],
      ['month 13', '2026-13-01T00:00:00Z'],
      ['hour 24', '2026-01-01T24:00:00Z'],
      ['a leap second', '2016-12-31T23:59:60Z'],
      ['year 0000 (valid RFC 3339, but no Postgres timestamp)', '0000-01-01T00:00:00.000Z'],
    ])('%s: BAD_TIMESTAMP', async (_what, ts) => {
      const { key } = await newAgent('ts');
      const ev = craft(key, { ts });
      await rejectOne(ev.bytes, 'BAD_TIMESTAMP', { key: key.agentId, agentId: key.agentId, eventId: ev.envelope.eventId as string, detail: /^ts: / });
    });

    it(`outside the clock-skew window (IL_CLOCK_SKEW_MS=${SKEW_MS}): ledgered and flagged CLOCK_SKEW; inside it: ledgered, not flagged`, async () => {
      const offsets = [+10 * 60_000, -10 * 60_000, +SKEW_MS / 2, -SKEW_MS / 2];
      const before = mark();
      const sent: Array<{ at: At; ev: SentEvent; agentId: string; off: number }> = [];
      for (const off of offsets) {
        const { key } = await newAgent('skew');
        const client = new AgentClient({ key, producer: h.producer, topic: h.config.topics.events, clock: () => new Date(Date.now() + off) });
        const ev = client.sign('intent.closed', { intentId: 'int_skew', outcome: 'completed' });
        sent.push({ at: await produce(ev.bytes, key.agentId), ev, agentId: key.agentId, off });
      }
      await settle(...sent.map((s) => s.at));
      for (const s of sent) {
        await expectLedgered(s.at, s.ev);
        const f = await findings(s.agentId);
        if (Math.abs(s.off) > SKEW_MS) {
          expect(f).toEqual([{ reason_code: 'CLOCK_SKEW', severity: 'low', event_id: s.ev.envelope.eventId, expected_seq: null, observed_seq: 1 }]);
        } else {
          expect(f).toEqual([]);
        }
      }
      await expectMetrics(before, { ledgered: 4, clockSkew: 2 });
    });
  });

  // --- identity ------------------------------------------------------------------------------------------------

  describe('identity: agents and keys', () => {
    it('an unknown agent: UNKNOWN_AGENT', async () => {
      const { key } = await newAgent('stranger', false);
      const ev = craft(key);
      await rejectOne(ev.bytes, 'UNKNOWN_AGENT', { key: key.agentId, agentId: key.agentId, eventId: ev.envelope.eventId as string });
    });

    it('a key never registered for a known agent: UNKNOWN_KEY; another agent\'s key: KEY_AGENT_MISMATCH', async () => {
      const { key } = await newAgent('known');
      const other = createAgentKey(key.agentId); // same agent id, a key nobody registered
      const unregistered = craft(other);
      await rejectOne(unregistered.bytes, 'UNKNOWN_KEY', { key: key.agentId, agentId: key.agentId });
      const { key: someoneElse } = await newAgent('someone-else');
      const borrowed = craft({ ...someoneElse, agentId: key.agentId });
      await rejectOne(borrowed.bytes, 'KEY_AGENT_MISMATCH', { key: key.agentId, agentId: key.agentId });
    });

    it('a genuine event keyed by anything but its agent id: KAFKA_KEY_MISMATCH (bytes kept); the correctly keyed copy is ledgered', async () => {
      const { key } = await newAgent('rekeyed');
      const ev = craft(key);
      await rejectOne(ev.bytes, 'KAFKA_KEY_MISMATCH', { key: 'someone-else', agentId: key.agentId, eventId: ev.envelope.eventId as string, detail: /must be keyed by the agent id/ });
      await rejectOne(ev.bytes, 'KAFKA_KEY_MISMATCH', { key: null, agentId: key.agentId, eventId: ev.envelope.eventId as string, detail: /no key/ });
      const at = await produce(ev.bytes, key.agentId);
      await settle(at);
      await expectLedgered(at, ev);
    });

    it('a retired key: KEY_RETIRED; the chain goes on under the agent\'s new key', async () => {
      const { key, client } = await newAgent('rotating');
      const first = client.sign('intent.closed', { intentId: 'int_r', outcome: 'completed' });
      const before = mark();
      const a1 = await produce(first.bytes, key.agentId);
      await settle(a1);
      await expectLedgered(a1, first);
      expect(await retireAgentKey(h.pool, key.keyId)).toBe(true);
      const late = client.sign('intent.closed', { intentId: 'int_r', outcome: 'completed' });
      const a2 = await produce(late.bytes, key.agentId);
      const next = createAgentKey(key.agentId);
      await registerAgentKey(h.pool, { agentId: key.agentId, publicKey: next.publicKey });
      const rotated = new AgentClient({ key: next, producer: h.producer, topic: h.config.topics.events, resume: { seq: 1, hash: first.hash } });
      const second = rotated.sign('intent.closed', { intentId: 'int_r', outcome: 'completed' });
      const a3 = await produce(second.bytes, key.agentId);
      await settle(a2, a3);
      await expectRejected(a2, late.bytes, 'KEY_RETIRED', { agentId: key.agentId, eventId: late.envelope.eventId });
      await expectLedgered(a3, second);
      await expectMetrics(before, { ledgered: 2, rejected: { KEY_RETIRED: 1 } });
    });

    // RFC 8032 encodings (little-endian y, sign of x in the top bit).
    const identity = Uint8Array.from([1, ...new Array(31).fill(0)]); // (0, 1): order 1
    const order2 = Uint8Array.from([0xec, ...new Array(30).fill(0xff), 0x7f]); // (0, -1): order 2
    const order4 = new Uint8Array(32); // (sqrt(-1), 0): order 4
    const yEqualsP = Uint8Array.from([0xed, ...new Array(30).fill(0xff), 0x7f]); // y = p: not reduced
    const negativeZero = Uint8Array.from([1, ...new Array(30).fill(0), 0x80]); // (-0, 1)

    it.each([
      ['the identity point (small order)', 'KEY_SMALL_ORDER', identity],
      ['a point of order 2', 'KEY_SMALL_ORDER', order2],
      ['a point of order 4', 'KEY_SMALL_ORDER', order4],
      ['a y that is not on the curve', 'KEY_NOT_ON_CURVE', offCurve()],
      ['y = p (non-canonical)', 'KEY_NON_CANONICAL', yEqualsP],
      ['x = -0 (non-canonical)', 'KEY_NON_CANONICAL', negativeZero],
      ['31 bytes', 'KEY_BAD_LENGTH', new Uint8Array(31).fill(7)],
    ])('registration refuses %s with KeyRegistrationRefused %s, and writes nothing', async (_what, code, publicKey) => {
      const agentId = `${h.config.topics.events}-weak-${randomUUID().slice(0, 8)}`;
      const attempt = registerAgentKey(h.pool, { agentId, publicKey: publicKey as Uint8Array });
      await expect(attempt).rejects.toBeInstanceOf(KeyRegistrationRefused);
      await expect(registerAgentKey(h.pool, { agentId, publicKey: publicKey as Uint8Array })).rejects.toMatchObject({ code });
      expect((await h.pool.query('SELECT count(*)::int AS n FROM agents WHERE agent_id = $1', [agentId])).rows[0].n).toBe(0);
    });

    it('an event "signed" for a small-order key: UNKNOWN_AGENT (refused at registration); SIG_INVALID even if such a key got in', async () => {
      // With A the identity, R = identity and S = 0 satisfy [S]B = R + [k]A for every message.
      const tag = randomUUID().slice(0, 8);
      const weak: AgentKey = { agentId: `${h.config.topics.events}-weak-${tag}`, keyId: `ed25519:small-order-${tag}`, publicKey: identity, sign: () => Uint8Array.from([...identity, ...new Array(32).fill(0)]) };
      await expect(registerAgentKey(h.pool, { agentId: weak.agentId, publicKey: weak.publicKey })).rejects.toMatchObject({ code: 'KEY_SMALL_ORDER' });
      const forged = craft(weak);
      await rejectOne(forged.bytes, 'UNKNOWN_AGENT', { key: weak.agentId, agentId: weak.agentId });
      // A registry bug (or a hand edit) letting the key in still gets no valid signature out of the verifier.
      await h.pool.query('INSERT INTO agents (agent_id) VALUES ($1)', [weak.agentId]);
      await h.pool.query("INSERT INTO agent_heads (agent_id, last_seq, last_hash) VALUES ($1, 0, '')", [weak.agentId]);
      await h.pool.query('INSERT INTO agent_keys (key_id, agent_id, public_key) VALUES ($1, $2, $3)', [weak.keyId, weak.agentId, Buffer.from(identity)]);
      const again = craft(weak);
      await rejectOne(again.bytes, 'SIG_INVALID', { key: weak.agentId, agentId: weak.agentId });
    });
  });

  // --- signatures ----------------------------------------------------------------------------------------------

  describe('signatures', () => {
    it('of the wrong length: SIG_BAD_ENCODING', async () => {
      const { key } = await newAgent('siglen');
      for (const n of [63, 65, 32, 0]) {
        const ev = craft(key, {}, () => new Uint8Array(n).fill(1));
        if (n === 0) await rejectOne(ev.bytes, 'SCHEMA_INVALID', { key: key.agentId, detail: /^sig: / }); // "" is not a signature at all
        else await rejectOne(ev.bytes, 'SIG_BAD_ENCODING', { key: key.agentId, detail: new RegExp(`${n} bytes`) });
      }
    });

    it('in a non-canonical encoding (padding, +/ alphabet, non-zero spare bits): SIG_BAD_ENCODING; the canonical one is then ledgered', async () => {
      const { key } = await newAgent('sigenc');
      // The standard-alphabet variant only differs when the signature has a '-' or '_': sign until it does.
      let ev: Crafted;
      do ev = craft(key);
      while (!/[-_]/.test(ev.envelope.sig as string));
      const sig = ev.envelope.sig as string;
      const lastIndex = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(sig[sig.length - 1]!);
      const variants = [
        sig + '==',
        sig + '=',
        sig.replace(/-/g, '+').replace(/_/g, '/'),
        sig.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[lastIndex | 1], // 86 chars carry 4 spare bits
        ` ${sig}`,
      ];
      for (const v of variants) {
        expect(b64uDecodeOrNull(v)).toBeNull();
        const bytes = Buffer.from(JSON.stringify({ ...ev.envelope, sig: v }));
        await rejectOne(bytes, 'SIG_BAD_ENCODING', { key: key.agentId, agentId: key.agentId, eventId: ev.envelope.eventId as string });
      }
      const before = mark();
      const a = await produce(ev.bytes, key.agentId);
      await settle(a);
      await expectLedgered(a, ev);
      await expectMetrics(before, { ledgered: 1 });
    });

    it('with a non-canonical S (S + L, which verifies under a lax verifier): SIG_INVALID', async () => {
      const { key } = await newAgent('sigmal');
      const ev = craft(key);
      const sig = b64uDecode(ev.envelope.sig as string);
      let s = 0n;
      for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
      let t = s + GROUP_ORDER;
      const malleated = Uint8Array.from(sig);
      for (let i = 32; i < 64; i++) {
        malleated[i] = Number(t & 0xffn);
        t >>= 8n;
      }
      expect(t).toBe(0n); // S + L still fits in 32 bytes
      const bytes = Buffer.from(JSON.stringify({ ...ev.envelope, sig: b64u(malleated) }));
      await rejectOne(bytes, 'SIG_INVALID', { key: key.agentId, agentId: key.agentId, detail: /non-canonical S/ });
    });

    it('made over another serialisation than JCS (JSON.stringify, keys unsorted): SIG_INVALID', async () => {
      const { key } = await newAgent('sigjcs');
      const ev = craft(key, {}, (u) => {
        const stringified = Buffer.from(JSON.stringify(u));
        expect(stringified.equals(Buffer.from(signingBytes(u)))).toBe(false);
        return key.sign(stringified);
      });
      await rejectOne(ev.bytes, 'SIG_INVALID', { key: key.agentId, agentId: key.agentId, detail: /JCS/ });
    });

    it('over other content (a field changed after signing), or by another key: SIG_INVALID', async () => {
      const { key } = await newAgent('sigtamper');
      const ev = craft(key);
      await rejectOne(Buffer.from(JSON.stringify({ ...ev.envelope, payload: { intentId: 'int_bad_input', outcome: 'failed' } })), 'SIG_INVALID', { key: key.agentId });
      const impostor = createAgentKey('impostor');
      const forged = craft(key, {}, (u) => impostor.sign(signingBytes(u)));
      await rejectOne(forged.bytes, 'SIG_INVALID', { key: key.agentId });
    });
  });

  // --- the agent's hash chain ----------------------------------------------------------------------------------

  describe('the hash chain', () => {
    it('replay of an earlier event: DUPLICATE_EVENT, counted as a replay, never a second row', async () => {
      const { key, client } = await newAgent('replay');
      const e1 = client.sign('intent.closed', { intentId: 'int_a', outcome: 'completed' });
      const e2 = client.sign('intent.closed', { intentId: 'int_b', outcome: 'completed' });
      const before = mark();
      const a1 = await produce(e1.bytes, key.agentId);
      const a2 = await produce(e2.bytes, key.agentId);
      await settle(a1, a2);
      await expectLedgered(a1, e1);
      await expectLedgered(a2, e2);
      // The same bytes again; the same event in another serialisation (same JCS form, same hash); the same event id
      // re-signed over new content at the next seq.
      const pretty = Buffer.from(JSON.stringify(e1.envelope, null, 2));
      const sameId = craft(key, { eventId: e1.envelope.eventId, seq: 3, prevHash: e2.hash });
      const r1 = await produce(e1.bytes, key.agentId);
      const r2 = await produce(pretty, key.agentId);
      const r3 = await produce(sameId.bytes, key.agentId);
      const r4 = await produce(e2.bytes, key.agentId);
      await settle(r1, r2, r3, r4);
      for (const [at, raw] of [[r1, e1.bytes], [r2, pretty], [r4, e2.bytes]] as const) {
        await expectRejected(at, raw, 'DUPLICATE_EVENT', { agentId: key.agentId, detail: /replay/ });
      }
      await expectRejected(r3, sameId.bytes, 'DUPLICATE_EVENT', { agentId: key.agentId, eventId: e1.envelope.eventId });
      expect(await ledgerCount(e1.envelope.eventId)).toBe(1);
      expect(await ledgerCount(e2.envelope.eventId)).toBe(1);
      expect(await findings(key.agentId)).toEqual([]);
      await expectMetrics(before, { ledgered: 2, rejected: { DUPLICATE_EVENT: 4 } });
    });

    it('a sequence gap: SEQ_GAP finding, later events still ledgered; concealed events arriving late are ledgered with LATE_EVENT', async () => {
      const { key, client } = await newAgent('gap');
      const chain = [1, 2, 3, 4, 5].map((n) => client.sign('intent.closed', { intentId: `int_${n}`, outcome: 'completed' }));
      const [e1, e2, e3, e4, e5] = chain as [SentEvent, SentEvent, SentEvent, SentEvent, SentEvent];
      const before = mark();
      const a1 = await produce(e1.bytes, key.agentId);
      const a4 = await produce(e4.bytes, key.agentId); // 2 and 3 withheld
      const a5 = await produce(e5.bytes, key.agentId);
      await settle(a1, a4, a5);
      await expectLedgered(a1, e1);
      await expectLedgered(a4, e4);
      await expectLedgered(a5, e5);
      expect(await findings(key.agentId)).toEqual([{ reason_code: 'SEQ_GAP', severity: 'high', event_id: e4.envelope.eventId, expected_seq: 2, observed_seq: 4 }]);
      const headNow = async () => (await h.pool.query('SELECT last_seq, last_hash FROM agent_heads WHERE agent_id = $1', [key.agentId])).rows[0];
      expect([Number((await headNow()).last_seq), (await headNow()).last_hash]).toEqual([5, e5.hash]);
      // A late seq 2 that does not link to seq 1 is refused; the real 3 (whose seq 2 is still missing) and then the
      // real 2 (which links to seq 1) are ledgered, each with a LATE_EVENT finding, and the head stays at 5.
      const forger = new AgentClient({ key, producer: h.producer, topic: h.config.topics.events, resume: { seq: 1, hash: 'f'.repeat(64) } });
      const wrong2 = forger.sign('intent.closed', { intentId: 'int_2x', outcome: 'completed' });
      const aw = await produce(wrong2.bytes, key.agentId);
      await settle(aw);
      await expectRejected(aw, wrong2.bytes, 'PREV_HASH_MISMATCH', { agentId: key.agentId, eventId: wrong2.envelope.eventId });
      // A substitute seq 3 (signed by the agent, linking to the real 2) is not what the ledgered 4 committed to.
      const swapper = new AgentClient({ key, producer: h.producer, topic: h.config.topics.events, resume: { seq: 2, hash: e2.hash } });
      const swap3 = swapper.sign('intent.closed', { intentId: 'int_3_harmless', outcome: 'completed' });
      const as = await produce(swap3.bytes, key.agentId);
      await settle(as);
      await expectRejected(as, swap3.bytes, 'FORK', { agentId: key.agentId, eventId: swap3.envelope.eventId });
      expect((await findings(key.agentId)).filter((f) => f.reason_code === 'FORK')).toEqual([
        { reason_code: 'FORK', severity: 'critical', event_id: swap3.envelope.eventId, expected_seq: 6, observed_seq: 3 },
      ]);
      const a3 = await produce(e3.bytes, key.agentId);
      await settle(a3);
      await expectLedgered(a3, e3);
      const a2 = await produce(e2.bytes, key.agentId);
      await settle(a2);
      await expectLedgered(a2, e2);
      const late = (await findings(key.agentId)).filter((f) => f.reason_code === 'LATE_EVENT');
      expect(late).toEqual([
        { reason_code: 'LATE_EVENT', severity: 'high', event_id: e3.envelope.eventId, expected_seq: 6, observed_seq: 3 },
        { reason_code: 'LATE_EVENT', severity: 'high', event_id: e2.envelope.eventId, expected_seq: 6, observed_seq: 2 },
      ]);
      expect([Number((await headNow()).last_seq), (await headNow()).last_hash]).toEqual([5, e5.hash]);
      await expectMetrics(before, { ledgered: 5, rejected: { PREV_HASH_MISMATCH: 1, FORK: 1 } });
    });

    it('a fork (two different events with one seq): FORK rejected with a critical finding, also within one batch', async () => {
      const { key, client } = await newAgent('fork');
      const e1 = client.sign('intent.closed', { intentId: 'int_1', outcome: 'completed' });
      const e2 = client.sign('intent.closed', { intentId: 'int_2', outcome: 'completed' });
      const twin = new AgentClient({ key, producer: h.producer, topic: h.config.topics.events, resume: { seq: 1, hash: e1.hash } });
      const e2b = twin.sign('intent.closed', { intentId: 'int_2', outcome: 'failed' });
      expect(e2b.envelope.seq).toBe(2);
      const before = mark();
      const a1 = await produce(e1.bytes, key.agentId);
      const a2 = await produce(e2.bytes, key.agentId);
      await settle(a1, a2);
      const a2b = await produce(e2b.bytes, key.agentId);
      await settle(a2b);
      await expectLedgered(a1, e1);
      await expectLedgered(a2, e2);
      await expectRejected(a2b, e2b.bytes, 'FORK', { agentId: key.agentId, eventId: e2b.envelope.eventId, detail: new RegExp(e2.envelope.eventId) });
      // Both versions of seq 3 in one producer request, so in one ingest batch: the first is ledgered, the second is the fork.
      const e3 = client.sign('intent.closed', { intentId: 'int_3', outcome: 'completed' });
      const e3b = new AgentClient({ key, producer: h.producer, topic: h.config.topics.events, resume: { seq: 2, hash: e2.hash } }).sign('intent.closed', { intentId: 'int_3', outcome: 'failed' });
      const [md] = await h.producer.send({ topic: h.config.topics.events, messages: [{ key: key.agentId, value: e3.bytes }, { key: key.agentId, value: e3b.bytes }] });
      const a3 = { partition: md!.partition, offset: md!.baseOffset! };
      const a3b = { partition: md!.partition, offset: String(BigInt(md!.baseOffset!) + 1n) };
      await settle(a3, a3b);
      await expectLedgered(a3, e3);
      await expectRejected(a3b, e3b.bytes, 'FORK', { eventId: e3b.envelope.eventId });
      expect(await findings(key.agentId)).toEqual([
        { reason_code: 'FORK', severity: 'critical', event_id: e2b.envelope.eventId, expected_seq: 3, observed_seq: 2 },
        { reason_code: 'FORK', severity: 'critical', event_id: e3b.envelope.eventId, expected_seq: 4, observed_seq: 3 },
      ]);
      await expectMetrics(before, { ledgered: 3, rejected: { FORK: 2 } });
    });

    it('a previous-hash that does not match: PREV_HASH_MISMATCH; the right next link is then ledgered', async () => {
      const { key, client } = await newAgent('prevhash');
      const e1 = client.sign('intent.closed', { intentId: 'int_1', outcome: 'completed' });
      const wrongFirst = craft(key, { seq: 1, prevHash: 'a'.repeat(64) }); // seq 1 must have a null prevHash
      const before = mark();
      const w1 = await produce(wrongFirst.bytes, key.agentId);
      const a1 = await produce(e1.bytes, key.agentId);
      const wrongLink = craft(key, { seq: 2, prevHash: createHash('sha256').update('not the previous event').digest('hex') });
      const nullLink = craft(key, { seq: 2, prevHash: null });
      const w2 = await produce(wrongLink.bytes, key.agentId);
      const w3 = await produce(nullLink.bytes, key.agentId);
      const e2 = client.sign('intent.closed', { intentId: 'int_2', outcome: 'completed' });
      const a2 = await produce(e2.bytes, key.agentId);
      await settle(w1, a1, w2, w3, a2);
      await expectRejected(w1, wrongFirst.bytes, 'PREV_HASH_MISMATCH', { eventId: wrongFirst.envelope.eventId as string });
      await expectLedgered(a1, e1);
      await expectRejected(w2, wrongLink.bytes, 'PREV_HASH_MISMATCH', { eventId: wrongLink.envelope.eventId as string, detail: new RegExp(e1.hash) });
      await expectRejected(w3, nullLink.bytes, 'PREV_HASH_MISMATCH');
      await expectLedgered(a2, e2);
      expect(await findings(key.agentId)).toEqual([]);
      await expectMetrics(before, { ledgered: 2, rejected: { PREV_HASH_MISMATCH: 3 } });
    });
  });

  // --- valid input that is merely big -------------------------------------------------------------------------

  it('a burst of large valid events in one batch is ledgered and announced (notices are sent in pieces the broker accepts)', async () => {
    const { key, client } = await newAgent('bulky');
    const events = [1, 2, 3, 4, 5, 6].map((i) =>
      client.sign('action.reported', { actionId: `act_${i}`, intentId: null, tool: 'upload', args: { blob: String(i).repeat(200 * 1024) }, argsDigest: '0'.repeat(64), targets: [], outcome: 'ok' }),
    );
    // Stop ingest so the six arrive in one fetch, then one batch, then one set of ledger notices (~1.2 MB).
    await h.ingest!.stop();
    const ats: At[] = [];
    for (const ev of events) ats.push(await produce(ev.bytes, key.agentId));
    const ingest = await h.startIngest();
    await ingest.joined;
    await settle(...ats);
    for (const [i, at] of ats.entries()) await expectLedgered(at, events[i]!);
    // A fresh consumer counts from zero: the six and the probe.
    expect(ingest.metrics.snapshot()).toMatchObject({ ledgered: events.length + 1, rejected: 0 });
  });
});

/** Nesting depth as parseStrictJson counts it: a scalar is 0, `[1]` is 1. */
function depth(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce<number>((m, c) => Math.max(m, depth(c)), 0);
}

/** The first small y (little-endian, sign bit clear) that is not the y of any curve point. */
function offCurve(): Uint8Array {
  for (let y = 2; ; y++) {
    const bytes = new Uint8Array(32);
    bytes[0] = y & 0xff;
    bytes[1] = y >> 8;
    if (checkPublicKey(bytes) === 'KEY_NOT_ON_CURVE') return bytes;
  }
}

function b64uDecodeOrNull(s: string): Uint8Array | null {
  try {
    return b64uDecode(s);
  } catch {
    return null;
  }
}

function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  return out;
}

/**
 * The Kafka record timestamp is producer-controlled metadata. One that Postgres cannot store used to fail its
 * batch's insert on every redelivery and stall the partition; now it is stored as unknown (null) on a rejected row.
 */
describe('a Kafka record timestamp Postgres cannot store', () => {
  it('is rejected or ledgered like any other record, and the partition moves on', async () => {
    const h = await createHarness();
    try {
      await (await h.startIngest()).joined;
      const bytes = Buffer.from('not json, and stamped in the year -29719');
      const [md] = await h.producer.send({ topic: h.config.topics.events, messages: [{ key: 'old', value: bytes, timestamp: String(-1e15) }] });
      const agent = await h.newAgent('after-old-record');
      const ev = agent.sign('intent.closed', { intentId: 'int_after', outcome: 'completed' });
      await h.producer.send({ topic: h.config.topics.events, messages: [{ key: agent.agentId, value: ev.bytes, partition: md!.partition }] });
      await eventually(async () => (await h.pool.query('SELECT 1 FROM ledger_events WHERE event_id = $1', [ev.envelope.eventId])).rows[0], 20_000, 'the event after the old record');
      const r = await h.pool.query('SELECT reason_code, produced_at FROM rejected_events WHERE kafka_topic = $1 AND kafka_offset = $2', [h.config.topics.events, md!.baseOffset]);
      expect(r.rows.map((x) => x.reason_code)).toEqual(['MALFORMED_JSON']);
      expect(r.rows[0].produced_at).toBeNull();
    } finally {
      await h.stop();
    }
  });
});

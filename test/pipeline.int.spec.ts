import type { Consumer } from 'kafkajs';
import { createHarness, eventually, Harness } from './pipelineHarness';
import type { Envelope } from '../schema/events';
import { AgentClient, createAgentKey } from '../services/sdk';
import { registerAgentKey } from '../services/registry';

/**
 * The end-to-end behaviours of the first slice, on the real Kafka and Postgres: what goes in is ledgered or
 * rejected with its bytes, redelivery never doubles a row, and drift revokes a credential.
 */
describe('pipeline (real Kafka + Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
    await h.startIngest();
    await h.startReconciler();
  });
  afterAll(async () => {
    await h.stop();
  });

  const ledgerRow = (eventId: string) =>
    eventually(async () => {
      const r = await h.pool.query('SELECT event_id, agent_id, seq, event_hash, raw, kafka_topic FROM ledger_events WHERE event_id = $1', [eventId]);
      return r.rows[0];
    }, 30_000, `ledger row ${eventId}`);

  it('ledgers a valid signed event with its raw bytes and hash', async () => {
    const agent = await h.newAgent('valid');
    const { event } = await agent.declareIntent({
      task: 'Check my balance', purpose: 'answer the user', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'],
    });
    const row = await ledgerRow(event.envelope.eventId);
    expect(row.agent_id).toBe(agent.agentId);
    expect(Number(row.seq)).toBe(1);
    expect(row.event_hash).toBe(event.hash);
    expect(Buffer.compare(row.raw, event.bytes)).toBe(0);
    expect(row.kafka_topic).toBe(h.config.topics.events);
  });

  it('rejects a tampered event with SIG_INVALID, keeps its bytes and sends it to the dead-letter topic', async () => {
    const dlq: Array<{ value: Buffer; reason: string }> = [];
    const consumer: Consumer = h.kafka.consumer({ groupId: `${h.config.topics.deadLetter}.watch` });
    await consumer.connect();
    await consumer.subscribe({ topic: h.config.topics.deadLetter, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void dlq.push({ value: message.value!, reason: String(message.headers?.reason) }) });
    try {
      const agent = await h.newAgent('tamper');
      const signed = agent.sign('intent.declared', {
        intentId: 'int_tamper', task: 'read one file', purpose: 'summarise', allowedTools: ['read_file'], allowedTargets: [], dataClasses: [],
        window: { notBefore: new Date().toISOString(), notAfter: new Date(Date.now() + 60_000).toISOString() },
      });
      const forged: Envelope = { ...signed.envelope, payload: { ...(signed.envelope.payload as object), allowedTools: ['read_file', 'send_money'] } } as Envelope;
      const bytes = Buffer.from(JSON.stringify(forged));
      await h.producer.send({ topic: h.config.topics.events, messages: [{ key: agent.agentId, value: bytes }] });
      const rej = await eventually(async () => (await h.pool.query('SELECT reason_code, raw, agent_id, event_id, detail FROM rejected_events WHERE event_id = $1', [forged.eventId])).rows[0], 30_000, 'rejected row');
      expect(rej.reason_code).toBe('SIG_INVALID');
      expect(rej.agent_id).toBe(agent.agentId);
      expect(Buffer.compare(rej.raw, bytes)).toBe(0);
      expect((await h.pool.query('SELECT count(*)::int AS n FROM ledger_events WHERE event_id = $1', [forged.eventId])).rows[0].n).toBe(0);
      const dead = await eventually(async () => dlq.find((m) => Buffer.compare(m.value, bytes) === 0), 30_000, 'dead-letter record');
      expect(dead.reason).toBe('SIG_INVALID');
    } finally {
      await consumer.disconnect();
    }
  });

  it('rejects bytes that are not JSON with MALFORMED_JSON and keeps them', async () => {
    const bytes = Buffer.from('{"eventId": "evt_x", oops');
    await h.producer.send({ topic: h.config.topics.events, messages: [{ key: 'someone', value: bytes }] });
    const rej = await eventually(async () => (await h.pool.query("SELECT reason_code, raw FROM rejected_events WHERE kafka_topic = $1 AND raw = $2", [h.config.topics.events, bytes])).rows[0], 30_000, 'rejected row');
    expect(rej.reason_code).toBe('MALFORMED_JSON');
  });

  it('gives one ledger row when the same event arrives twice, and when Kafka redelivers a record', async () => {
    const agent = await h.newAgent('twice');
    const { event } = await agent.declareIntent({ task: 't', purpose: 'p', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: [] });
    await ledgerRow(event.envelope.eventId);
    // A second record with the same bytes: a replay, rejected as a duplicate and counted, never a second row.
    await h.producer.send({ topic: h.config.topics.events, messages: [{ key: agent.agentId, value: event.bytes }] });
    const dup = await eventually(async () => (await h.pool.query('SELECT reason_code FROM rejected_events WHERE event_id = $1', [event.envelope.eventId])).rows[0], 30_000, 'duplicate rejected');
    expect(dup.reason_code).toBe('DUPLICATE_EVENT');

    // The same Kafka records delivered again: rewind the ingest group to the start and let it reread everything.
    const before = (await h.pool.query('SELECT count(*)::int AS n FROM ledger_events WHERE kafka_topic = $1', [h.config.topics.events])).rows[0].n;
    const rejectedBefore = (await h.pool.query('SELECT count(*)::int AS n FROM rejected_events WHERE kafka_topic = $1', [h.config.topics.events])).rows[0].n;
    await h.ingest!.stop();
    const admin = h.kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: h.config.ingestGroup, topic: h.config.topics.events, earliest: true });
    await admin.disconnect();
    const ingest = await h.startIngest();
    await eventually(async () => (ingest.metrics.redelivered >= before + rejectedBefore ? true : undefined), 60_000, 'redelivery to be processed');
    const after = (await h.pool.query('SELECT count(*)::int AS n FROM ledger_events WHERE kafka_topic = $1', [h.config.topics.events])).rows[0].n;
    const rejectedAfter = (await h.pool.query('SELECT count(*)::int AS n FROM rejected_events WHERE kafka_topic = $1', [h.config.topics.events])).rows[0].n;
    expect(after).toBe(before);
    expect(rejectedAfter).toBe(rejectedBefore);
    expect((await h.pool.query('SELECT count(*)::int AS n FROM ledger_events WHERE event_id = $1', [event.envelope.eventId])).rows[0].n).toBe(1);
  });

  it('turns an out-of-scope action into a drift finding and a revocation, and leaves an in-scope one alone', async () => {
    const revoked: Array<Record<string, unknown>> = [];
    const consumer = h.kafka.consumer({ groupId: `${h.config.topics.revocations}.watch` });
    await consumer.connect();
    await consumer.subscribe({ topic: h.config.topics.revocations, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void revoked.push(JSON.parse(message.value!.toString())) });
    try {
      const agent = await h.newAgent('drift');
      const { intentId } = await agent.declareIntent({
        task: 'What is my balance?', purpose: 'answer the user', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'],
      });
      const ok = await agent.reportAction({ intentId, tool: 'get_balance', args: {} });
      const bad = await agent.reportAction({ intentId, tool: 'send_money', args: { recipient: 'US133000000121212121212', amount: 100, subject: 'x', date: '2022-01-01' } });

      const findings = await eventually(async () => {
        const r = await h.pool.query('SELECT reason_code, severity, intent_id, tool FROM drift_findings WHERE action_event_id = $1', [bad.event.envelope.eventId]);
        return r.rows.length > 0 ? r.rows : undefined;
      }, 30_000, 'drift finding');
      expect(findings.map((f) => f.reason_code)).toContain('TOOL_NOT_ALLOWED');
      expect(findings.every((f) => f.intent_id === intentId && f.tool === 'send_money')).toBe(true);

      const cred = await eventually(async () => (await h.pool.query("SELECT status, revoked_at FROM credentials WHERE intent_id = $1 AND status = 'revoked'", [intentId])).rows[0], 30_000, 'credential revoked');
      expect(cred.revoked_at).toBeInstanceOf(Date);
      const rev = (await h.pool.query('SELECT credential_id, action_event_id, latency_ms, severity FROM revocations WHERE intent_id = $1', [intentId])).rows;
      expect(rev).toHaveLength(1);
      expect(rev[0].action_event_id).toBe(bad.event.envelope.eventId);
      expect(rev[0].latency_ms).toBeGreaterThan(0);
      expect(rev[0].latency_ms).toBeLessThan(60_000);
      const onKafka = await eventually(async () => revoked.find((r) => r.intentId === intentId), 30_000, 'revocation on Kafka');
      expect(onKafka.credentialId).toBe(rev[0].credential_id);

      const okRow = (await h.pool.query('SELECT in_scope FROM actions WHERE event_id = $1', [ok.event.envelope.eventId])).rows[0];
      expect(okRow.in_scope).toBe(true);
      expect((await h.pool.query('SELECT count(*)::int AS n FROM drift_findings WHERE action_event_id = $1', [ok.event.envelope.eventId])).rows[0].n).toBe(0);
    } finally {
      await consumer.disconnect();
    }
  });

  it('honours the open targets signed into the intent: any channel for the membership read it names, nothing more', async () => {
    const agent = await h.newAgent('open-targets');
    const base = {
      task: 'list members', purpose: 'p', allowedTools: ['get_users_in_channel', 'read_channel_messages'],
      allowedTargets: [{ kind: 'channel', value: 'general' }], dataClasses: ['messages'],
    };
    const { intentId } = await agent.declareIntent({ ...base, openTargets: [{ tool: 'get_users_in_channel', kind: 'channel' }] });
    const { intentId: closedScope } = await agent.declareIntent(base);
    const open = await agent.reportAction({ intentId, tool: 'get_users_in_channel', args: { channel: 'External_0' } });
    const otherTool = await agent.reportAction({ intentId, tool: 'read_channel_messages', args: { channel: 'External_0' } });
    const noOpen = await agent.reportAction({ intentId: closedScope, tool: 'get_users_in_channel', args: { channel: 'External_0' } });
    const inScope = async (e: { event: { envelope: { eventId: string } } }) =>
      (await eventually(async () => (await h.pool.query('SELECT in_scope FROM actions WHERE event_id = $1', [e.event.envelope.eventId])).rows[0], 30_000, 'action row')).in_scope;
    expect(await inScope(open)).toBe(true);
    expect(await inScope(otherTool)).toBe(false);
    expect(await inScope(noOpen)).toBe(false);
  });

  it('revokes every active credential of an agent whose chain forks (two parties sign as it), and alerts', async () => {
    const alerts: Array<Record<string, unknown>> = [];
    const consumer = h.kafka.consumer({ groupId: `${h.config.topics.alerts}.fork-watch` });
    await consumer.connect();
    await consumer.subscribe({ topic: h.config.topics.alerts, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void alerts.push(JSON.parse(message.value!.toString())) });
    try {
      const key = createAgentKey(`${h.config.topics.events}-forked`);
      await registerAgentKey(h.pool, { agentId: key.agentId, publicKey: key.publicKey });
      const agent = new AgentClient({ key, producer: h.producer, topic: h.config.topics.events });
      const { intentId, event } = await agent.declareIntent({ task: 'balance', purpose: 'p', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'] });
      await eventually(async () => (await h.pool.query("SELECT 1 FROM credentials WHERE intent_id = $1 AND status = 'active'", [intentId])).rows[0], 30_000, 'credential');
      // A copy of the key elsewhere continues the same chain with a different event at seq 2.
      const thief = new AgentClient({ key, producer: h.producer, topic: h.config.topics.events, resume: { seq: 1, hash: event.hash } });
      await agent.reportAction({ intentId, tool: 'get_balance', args: {} });
      const forged = await thief.reportAction({ intentId, tool: 'send_money', args: { recipient: 'US133000000121212121212', amount: 1, subject: 's', date: '2022-01-01' } });
      const rejected = await eventually(async () => (await h.pool.query('SELECT reason_code FROM rejected_events WHERE event_id = $1', [forged.event.envelope.eventId])).rows[0], 30_000, 'fork rejected');
      expect(rejected.reason_code).toBe('FORK');
      const rev = await eventually(async () => (await h.pool.query("SELECT reason_code, severity, note FROM revocations WHERE intent_id = $1", [intentId])).rows[0], 30_000, 'revoked on fork');
      expect([rev.reason_code, rev.severity]).toEqual(['FORK', 'critical']);
      expect(rev.note).toMatch(/^integrity finding \d+: /);
      const alert = await eventually(async () => alerts.find((a) => a.type === 'integrity.finding' && a.agentId === agent.agentId), 30_000, 'integrity alert');
      expect([alert.reasonCode, (alert.credentialsRevoked as string[]).length]).toEqual(['FORK', 1]);
      expect((await h.pool.query('SELECT handled_at FROM integrity_findings WHERE agent_id = $1', [agent.agentId])).rows.every((r) => r.handled_at instanceof Date)).toBe(true);
    } finally {
      await consumer.disconnect();
    }
  });

  it('ignores messages on the ledger topic that name no ledgered event, and keeps reconciling', async () => {
    const forgedEvent = {
      eventId: 'evt_forged_notice', agentId: 'nobody', keyId: 'k', seq: 1, type: 'intent.declared', ts: new Date().toISOString(),
      producedAt: new Date().toISOString(),
      payload: { intentId: 'int_forged', task: 't', purpose: 'p', allowedTools: ['send_money'], allowedTargets: [], dataClasses: [], window: { notBefore: '2020-01-01T00:00:00Z', notAfter: '2099-01-01T00:00:00Z' } },
    };
    const ignoredBefore = h.reconciler!.metrics.ignored;
    await h.producer.send({
      topic: h.config.topics.ledger,
      messages: [0, 1, 2, 3].flatMap((partition) => [
        { partition, value: Buffer.from('not json') },
        { partition, value: Buffer.from(JSON.stringify({ v: 1, agentId: 'nobody', events: [forgedEvent] })) },
      ]),
    });
    const agent = await h.newAgent('after-forged');
    const { intentId } = await agent.declareIntent({ task: 't', purpose: 'p', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'] });
    const bad = await agent.reportAction({ intentId, tool: 'send_money', args: { recipient: 'US133000000121212121212', amount: 1, subject: 's', date: '2022-01-01' } });
    await eventually(async () => (await h.pool.query('SELECT 1 FROM drift_findings WHERE action_event_id = $1', [bad.event.envelope.eventId])).rows[0], 30_000, 'finding after forged notices');
    expect(h.reconciler!.metrics.ignored - ignoredBefore).toBe(8);
    expect((await h.pool.query("SELECT count(*)::int AS n FROM intents WHERE intent_id = 'int_forged'")).rows[0].n).toBe(0);
  });
});

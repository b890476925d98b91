import { randomBytes, randomInt } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Consumer } from 'kafkajs';
import { createHarness, eventually, Harness } from './pipelineHarness';
import { createLogger } from '../services/common/logger';
import { waitForStableGroup } from '../services/common/kafka';
import { startAlertsConsumer, parseSinksConfig, deliveryStatus, requeueFailed, NO_SINKS, type AlertsConsumer, type AlertSinksConfig } from '../consumers/alerts';
import { sampleAlert } from '../consumers/alerts/testFixtures';
import type { DriftAlert } from '../consumers/reconciler/reconcileNotice';
import type { Severity } from '../schema/reasons';
import { WebhookReceiver, TcpSyslogReceiver, UdpSyslogReceiver } from './alertReceivers';
import { parseCef } from './alertParsers';

/**
 * Alert delivery on the real Kafka and Postgres, with real local receivers: an HTTP server that checks the HMAC,
 * TCP and UDP syslog listeners that parse what they get, and a Kafka consumer. Alerts are put on the alerts topic
 * as the reconciler writes them (and, in the last test, made by the reconciler itself).
 */
describe('alert delivery (real Kafka + Postgres + local receivers)', () => {
  let h: Harness;
  const key = randomBytes(32).toString('hex');
  const env = { IL_TEST_SOC_KEY: key };
  const log = createLogger('silent');
  const running: AlertsConsumer[] = [];
  const fast = { retry: { initialDelayMs: 50, maxDelayMs: 400 }, dispatch: { pollMs: 50, batchSize: 100, leaseMs: 5_000 } };

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    for (const c of running) await c.stop().catch(() => undefined);
    await h.stop();
  });

  async function start(sinks: AlertSinksConfig): Promise<AlertsConsumer> {
    const c = await startAlertsConsumer(h.kafka, h.pool, h.config, sinks, h.config.kafkaBrokers!, log, { random: () => 0.5 });
    running.push(c);
    await c.joined;
    // Joined is not yet fetching: wait until the group is stable with this one member holding the partitions.
    await waitForStableGroup(h.kafka, h.config.alertsGroup, 1, 60_000);
    return c;
  }
  async function stop(c: AlertsConsumer): Promise<void> {
    await c.stop();
    running.splice(running.indexOf(c), 1);
  }
  /** A finding id no other test (or earlier run on this database) has used. */
  const findingId = () => String(randomInt(1, 2 ** 47));
  function alert(over: Partial<DriftAlert> = {}): DriftAlert {
    return sampleAlert({ findingId: findingId(), agentId: `agent-${randomBytes(3).toString('hex')}`, intentId: `int_${randomBytes(3).toString('hex')}`, ...over });
  }
  async function publish(alerts: Array<DriftAlert | Buffer>): Promise<void> {
    await h.producer.send({
      topic: h.config.topics.alerts,
      messages: alerts.map((a) => (Buffer.isBuffer(a) ? { key: 'x', value: a } : { key: a.agentId, value: JSON.stringify(a) })),
    });
  }
  const rows = async (findingIds: string[]) =>
    (
      await h.pool.query<{ sink: string; status: string; attempts: number; alert_count: number; finding_ids: string[]; delivery_id: string; last_error: string | null }>(
        `SELECT sink, status, attempts, alert_count, finding_ids, delivery_id, last_error FROM alert_deliveries
          WHERE source_topic = $1 AND finding_ids && $2::text[] ORDER BY sink, id`,
        [h.config.topics.alerts, findingIds],
      )
    ).rows;
  const allDelivered = (findingIds: string[], expected: number) =>
    eventually(async () => {
      const r = await rows(findingIds);
      return r.length === expected && r.every((x) => x.status === 'delivered') ? r : undefined;
    }, 60_000, `${expected} deliveries delivered`);

  async function kafkaReceiver(topic: string): Promise<{ got: Array<{ id: string; value: string }>; consumer: Consumer }> {
    const got: Array<{ id: string; value: string }> = [];
    const consumer = h.kafka.consumer({ groupId: `${topic}.soc-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push({ id: String(message.headers!['idempotency-key']), value: message.value!.toString('utf8') }) });
    return { got, consumer };
  }
  async function createTopic(topic: string): Promise<void> {
    const admin = h.kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] });
    await admin.disconnect();
  }

  it('with no sinks, records each alert once and keeps a record that is not an alert with its problem', async () => {
    const c = await start(NO_SINKS);
    try {
      const a = alert();
      const b = alert({ severity: 'low' });
      const junk = Buffer.from(`{"type":"drift.finding","findingId":"${findingId()}"}`);
      await publish([a, b, a, junk]); // the reconciler may send an alert twice
      // The test producer may itself repeat a batch it retried (it is not idempotent): count by content.
      const received = await eventually(async () => {
        const r = await h.pool.query<{ finding_id: string | null; problem: string | null; raw: Buffer | null }>(
          'SELECT finding_id, problem, raw FROM alerts_received WHERE source_topic = $1 ORDER BY finding_id NULLS LAST',
          [h.config.topics.alerts],
        );
        return r.rows.filter((x) => x.finding_id !== null).length === 2 && r.rows.some((x) => x.finding_id === null) ? r.rows : undefined;
      }, 60_000, 'both alerts and the record that is not one');
      expect(received.filter((r) => r.finding_id !== null).map((r) => r.finding_id)).toEqual([a.findingId, b.findingId].sort());
      const junkRows = received.filter((r) => r.finding_id === null);
      expect(junkRows.every((r) => /^not a drift alert: /.test(r.problem!) && r.raw!.equals(junk))).toBe(true);
      await eventually(async () => (c.metrics.duplicates >= 1 ? true : undefined), 30_000, 'the repeat counted');
      expect(await rows([a.findingId, b.findingId])).toEqual([]);
    } finally {
      await stop(c);
    }
  });

  it('routes by severity and delivers to a signed webhook, TCP and UDP syslog and a Kafka topic, each in its format', async () => {
    const web = new WebhookReceiver(Buffer.from(key));
    const tcp = new TcpSyslogReceiver();
    const udp = new UdpSyslogReceiver();
    await Promise.all([web.start(), tcp.start(), udp.start()]);
    const outTopic = `${h.config.topics.alerts}.soc-routing`;
    await createTopic(outTopic);
    const lake = await kafkaReceiver(outTopic);
    const sinks = parseSinksConfig({
      version: 1, ...fast,
      sinks: [
        { name: 'web', type: 'webhook', url: `http://127.0.0.1:${web.port}/hook`, format: 'json', secretEnv: 'IL_TEST_SOC_KEY' },
        { name: 'tcp', type: 'syslog', transport: 'tcp', host: '127.0.0.1', port: tcp.port, format: 'cef', severities: ['medium', 'high', 'critical'] },
        { name: 'udp', type: 'syslog', transport: 'udp', host: '127.0.0.1', port: udp.port, format: 'json', severities: ['high', 'critical'], facility: 'authpriv' },
        { name: 'lake', type: 'kafka', topic: outTopic, format: 'ocsf', severities: ['critical'] },
      ],
    }, 'test', env);
    const c = await start(sinks);
    try {
      const bySeverity: Record<Severity, DriftAlert> = { low: alert({ severity: 'low' }), medium: alert({ severity: 'medium' }), high: alert({ severity: 'high' }), critical: alert({ severity: 'critical', detail: 'line one\nline=two | three' }) };
      const all = Object.values(bySeverity);
      await publish(all);
      await allDelivered(all.map((a) => a.findingId), 4 + 3 + 2 + 1);
      await eventually(async () => (lake.got.length >= 1 ? true : undefined), 30_000, 'the Kafka sink record');

      const web1 = web.got.map((g) => JSON.parse(g.body.text));
      expect(web1.map((j) => j.severity).sort()).toEqual(['critical', 'high', 'low', 'medium']);
      expect(web.got.every((g) => g.body.contentType === 'application/json')).toBe(true);
      expect(web.refusedSignatures).toEqual([]);

      const cef = tcp.got.map((g) => ({ sd: g.body.sd['intentledger@32473']!, cef: parseCef(g.body.msg) }));
      expect(cef.map((x) => x.cef.ext.cn1).sort()).toEqual([bySeverity.medium, bySeverity.high, bySeverity.critical].map((a) => a.findingId).sort());
      const crit = cef.find((x) => x.cef.ext.cn1 === bySeverity.critical.findingId)!;
      expect([crit.cef.signatureId, crit.cef.severity, crit.cef.ext.msg, crit.cef.ext.suser, crit.sd.severity]).toEqual(['TARGET_NOT_ALLOWED', '10', 'line one\nline=two | three', bySeverity.critical.agentId, 'critical']);

      expect(udp.got.map((g) => JSON.parse(g.body.msg).findingId).sort()).toEqual([bySeverity.high.findingId, bySeverity.critical.findingId].sort());
      expect(udp.got.every((g) => g.body.facility === 10)).toBe(true);

      const ocsf = JSON.parse(lake.got[0]!.value);
      expect([ocsf.class_uid, ocsf.severity_id, ocsf.finding_info.uid, ocsf.metadata.uid]).toEqual([2004, 5, bySeverity.critical.findingId, lake.got[0]!.id]);

      for (const r of [web, tcp, udp]) expect(r.repeats()).toEqual([]);
      const status = await deliveryStatus(h.pool, h.config.topics.alerts);
      expect(status.sinks.map((s) => [s.sink, s.delivered, s.pending, s.failed])).toEqual([['lake', 1, 0, 0], ['tcp', 3, 0, 0], ['udp', 2, 0, 0], ['web', 4, 0, 0]]);
    } finally {
      await stop(c);
      await lake.consumer.disconnect();
      await Promise.all([web.stop(), tcp.stop(), udp.stop()]);
    }
  });

  it('keeps deliveries pending while every receiver is down, delivers them once each when they return, and sends nothing twice after restarts', async () => {
    const web = new WebhookReceiver(Buffer.from(key));
    const tcp = new TcpSyslogReceiver();
    const udp = new UdpSyslogReceiver();
    // Learn free ports, then take the receivers down: the sinks start out pointing at closed ports.
    await Promise.all([web.start(), tcp.start(), udp.start()]);
    await Promise.all([web.stop(), tcp.stop(), udp.stop()]);
    const outTopic = `${h.config.topics.alerts}.soc-outage`; // not created yet: the Kafka sink is "down" too
    const sinks = parseSinksConfig({
      version: 1, ...fast,
      sinks: [
        { name: 'web', type: 'webhook', url: `http://127.0.0.1:${web.port}/hook`, format: 'cef', secretEnv: 'IL_TEST_SOC_KEY', timeoutMs: 2_000 },
        { name: 'tcp', type: 'syslog', transport: 'tcp', host: '127.0.0.1', port: tcp.port, format: 'json', timeoutMs: 2_000 },
        { name: 'udp', type: 'syslog', transport: 'udp', host: '127.0.0.1', port: udp.port, format: 'cef' },
        { name: 'lake', type: 'kafka', topic: outTopic, format: 'json', timeoutMs: 2_000 },
      ],
    }, 'test', env);
    let c = await start(sinks);
    const first = Array.from({ length: 6 }, (_, i) => alert({ severity: (['low', 'medium', 'high', 'critical'] as const)[i % 4] }));
    await publish(first);
    const ids = first.map((a) => a.findingId);
    // Every sink has failed at least once and still holds all six, pending.
    const down = await eventually(async () => {
      const s = await deliveryStatus(h.pool, h.config.topics.alerts);
      const mine = s.sinks.filter((k) => ['web', 'tcp', 'udp', 'lake'].includes(k.sink));
      const tried = new Set(s.undelivered.filter((u) => u.findingIds.some((f) => ids.includes(f))).map((u) => u.sink));
      return tried.size === 4 && mine.every((k) => k.pending >= 6) ? s : undefined;
    }, 60_000, 'every sink to fail and keep its deliveries pending');
    const errors = Object.fromEntries(down.undelivered.map((u) => [u.sink, u.lastError]));
    expect(errors.web).toMatch(/^SINK_UNREACHABLE: POST http:\/\/127.0.0.1:\d+\/hook: ECONNREFUSED/);
    expect(errors.tcp).toMatch(/^SINK_UNREACHABLE: syslog tcp 127.0.0.1:\d+: ECONNREFUSED/);
    expect(errors.udp).toMatch(/^SINK_REFUSED: syslog udp 127.0.0.1:\d+: ECONNREFUSED/);
    expect(errors.lake).toMatch(/^SINK_UNREACHABLE: kafka /);
    expect(down.undelivered.every((u) => u.status === 'pending' && u.nextAttemptAt !== null)).toBe(true);

    // The consumer restarts while the receivers are still down; the Kafka offsets are even rewound, so every
    // alert is read again: the intake offsets stored with the outbox skip them.
    await stop(c);
    const admin = h.kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: h.config.alertsGroup, topic: h.config.topics.alerts, earliest: true });
    await admin.disconnect();
    c = await start(sinks);
    await Promise.all([web.start(), tcp.start(), udp.start()]);
    await createTopic(outTopic);
    const lake = await kafkaReceiver(outTopic);
    try {
      await allDelivered(ids, 24);
      await eventually(async () => (c.metrics.skipped > 0 ? true : undefined), 30_000, 'the rewound records skipped');
      expect(c.metrics.recorded).toBe(0);

      // More alerts after a second restart, and one of the first six sent again by the reconciler.
      await stop(c);
      c = await start(sinks);
      const more = [alert({ severity: 'critical' }), alert({ severity: 'low' })];
      await publish([...more, first[0]!]);
      await allDelivered(more.map((a) => a.findingId), 8);
      // A Kafka record may be repeated by a producer retry (kafkaSink.ts): readers drop repeats by idempotency-key.
      await eventually(async () => (new Set(lake.got.map((g) => g.id)).size === 8 ? true : undefined), 30_000, 'eight Kafka sink records');
      await eventually(async () => (c.metrics.duplicates >= 1 ? true : undefined), 30_000, 'the re-sent alert counted as a repeat');

      const delivered = await rows([...ids, ...more.map((a) => a.findingId)]);
      for (const [name, r] of [['web', web.ids()], ['tcp', tcp.ids()], ['udp', udp.ids()], ['lake', [...new Set(lake.got.map((g) => g.id))]]] as const) {
        const want = delivered.filter((d) => d.sink === name).map((d) => d.delivery_id).sort();
        expect([name, [...r].sort()]).toEqual([name, want]); // every delivery, each exactly once
      }
      expect(web.refusedSignatures).toEqual([]);
      expect(parseCef(web.got[0]!.body.text).signatureId).toBe('TARGET_NOT_ALLOWED');

      // The command operators use says the same (run as a separate process, as they would).
      const cli = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'intent-ledger.js'), 'alerts', 'status', '--json'], {
        env: { ...process.env, IL_TOPIC_PREFIX: h.config.topics.alerts.replace(/\.alerts$/, ''), IL_LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(cli.stderr).toBe('');
      const json = JSON.parse(cli.stdout);
      const web2 = json.sinks.find((s: { sink: string }) => s.sink === 'web');
      expect([web2.pending, web2.failed, web2.delivered >= 8]).toEqual([0, 0, true]);
    } finally {
      await stop(c);
      await lake.consumer.disconnect();
      await Promise.all([web.stop(), tcp.stop(), udp.stop()]);
    }
  });

  it('folds the same agent, reason code and intent within the window into one delivery with a count', async () => {
    const web = new WebhookReceiver(Buffer.from(key));
    await web.start();
    const sinks = parseSinksConfig({
      version: 1, ...fast, dedupeWindowSeconds: 2,
      sinks: [
        { name: 'folded', type: 'webhook', url: `http://127.0.0.1:${web.port}/`, secretEnv: 'IL_TEST_SOC_KEY' },
        { name: 'pager', type: 'webhook', url: `http://127.0.0.1:${web.port}/`, secretEnv: 'IL_TEST_SOC_KEY', dedupeWindowSeconds: 0, severities: ['critical'] },
      ],
    }, 'test', env);
    const c = await start(sinks);
    try {
      const same = { agentId: `agent-${randomBytes(3).toString('hex')}`, intentId: 'int_same', reasonCode: 'TOOL_NOT_ALLOWED' as const };
      const burst = [alert({ ...same, severity: 'medium' }), alert({ ...same, severity: 'critical' }), alert({ ...same, severity: 'medium' })];
      const other = alert({ ...same, intentId: 'int_other', severity: 'low' });
      await publish([...burst, other]);
      const all = [...burst, other].map((a) => a.findingId);
      await allDelivered(all, 2 + 1);
      const folded = (await rows(all)).filter((r) => r.sink === 'folded');
      expect(folded.map((r) => [r.alert_count, r.finding_ids])).toEqual([[3, burst.map((a) => a.findingId)], [1, [other.findingId]]]);
      const bodies = web.got.map((g) => JSON.parse(g.body.text));
      const group = bodies.find((b) => b.count === 3)!;
      expect([group.findingId, group.severity, group.findingIds]).toEqual([burst[0]!.findingId, 'critical', burst.map((a) => a.findingId)]);
      // The pager has no window: its one critical alert went on its own.
      expect(bodies.filter((b) => b.count === 1).map((b) => b.findingId).sort()).toEqual([burst[1]!.findingId, other.findingId].sort());
      expect(web.repeats()).toEqual([]);
    } finally {
      await stop(c);
      await web.stop();
    }
  });

  it('marks a delivery the receiver refuses for good as failed, shows why, and sends it once queued again', async () => {
    const web = new WebhookReceiver(Buffer.from(key));
    await web.start();
    web.forceStatus = 400;
    const sinks = parseSinksConfig({ version: 1, ...fast, sinks: [{ name: 'strict', type: 'webhook', url: `http://127.0.0.1:${web.port}/`, secretEnv: 'IL_TEST_SOC_KEY' }] }, 'test', env);
    const c = await start(sinks);
    try {
      const a = alert();
      await publish([a]);
      const failed = await eventually(async () => {
        const r = await rows([a.findingId]);
        return r[0]?.status === 'failed' ? r[0] : undefined;
      }, 30_000, 'the delivery to fail');
      expect([failed.attempts, failed.last_error]).toEqual([1, `SINK_REJECTED: POST http://127.0.0.1:${web.port}/: HTTP 400: forced`]);
      const s = await deliveryStatus(h.pool, h.config.topics.alerts);
      expect(s.undelivered.find((u) => u.findingIds.includes(a.findingId))).toMatchObject({ status: 'failed', nextAttemptAt: null, attempts: 1 });
      web.forceStatus = null;
      expect(await requeueFailed(h.pool, h.config.topics.alerts, 'strict')).toBe(1);
      await allDelivered([a.findingId], 1);
      expect(web.ids()).toEqual([failed.delivery_id]);
    } finally {
      await stop(c);
      await web.stop();
    }
  });

  it('delivers a drift finding the reconciler made from a signed out-of-scope action', async () => {
    const web = new WebhookReceiver(Buffer.from(key));
    await web.start();
    const c = await start(parseSinksConfig({ version: 1, ...fast, sinks: [{ name: 'soc', type: 'webhook', url: `http://127.0.0.1:${web.port}/`, secretEnv: 'IL_TEST_SOC_KEY' }] }, 'test', env));
    await h.startIngest();
    await h.startReconciler();
    try {
      const agent = await h.newAgent('alerted');
      const { intentId } = await agent.declareIntent({ task: 'Check my balance', purpose: 'answer the user', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'] });
      const { event } = await agent.reportAction({ intentId, tool: 'send_money', args: { recipient: 'US133000000121212121212', amount: 100, subject: 'x', date: '2022-01-01' } });
      const findings = await eventually(async () => {
        const r = await h.pool.query<{ id: string; reason_code: string }>('SELECT id::text, reason_code FROM drift_findings WHERE action_event_id = $1 ORDER BY id', [event.envelope.eventId]);
        return r.rows.length > 0 ? r.rows : undefined;
      }, 60_000, 'drift findings');
      const got = await eventually(async () => {
        const mine = web.got.map((g) => JSON.parse(g.body.text)).filter((b) => b.agentId === agent.agentId);
        return mine.length === findings.length ? mine : undefined;
      }, 60_000, 'one alert per finding at the webhook');
      expect(got.map((b) => [b.findingId, b.reasonCode]).sort()).toEqual(findings.map((f) => [f.id, f.reason_code]).sort());
      expect(got.map((b) => b.reasonCode)).toContain('TOOL_NOT_ALLOWED');
      expect(got.every((b) => b.intentId === intentId && b.tool === 'send_money' && b.count === 1)).toBe(true);
      expect(web.repeats()).toEqual([]);
    } finally {
      await stop(c);
      await web.stop();
    }
  });
});

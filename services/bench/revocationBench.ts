import path from 'node:path';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { loadConfig } from '../common/config';
import { createKafka, ensureTopics, waitForStableGroup } from '../common/kafka';
import { createPool } from '../common/db';
import { createLogger } from '../common/logger';
import { ensureServices } from '../devservers';
import { loadConfig as loadDevServersConfig } from '../devservers/config';
import { preflight } from '../common/preflight';
import { migrate } from '../../schema/migrate';
import { loadCatalogue } from '../../schema/catalogue';
import { registerAgentKey } from '../registry';
import { AgentClient, CredentialClient, createAgentProducer } from '../sdk';
import { startBroker } from '../broker';
import { startGateway, startRevocationListener, RevocationList } from '../gateway';
import { startConsumerProcess, type ConsumerProcess } from '../demo/consumerProcess';
import { percentile } from '../demo/percentile';
import { buildFleet, nodeAgentKey, type FleetAgent } from './benchFleet';

export interface RevocationBenchOptions {
  /** Drifting agents measured. */
  samples: number;
  /** Background fleet load, events per second. */
  rate: number;
  consumers?: number;
  print: (line: string) => void;
}

export interface RevocationReport {
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  samples: number;
  /** Samples whose next gateway call was then refused with CREDENTIAL_REVOKED (should equal samples). */
  refusedAfter: number;
  /** Fleet load while the samples were taken: produced, and ledgered by ingest. */
  load: { targetEventsPerSecond: number; producedEventsPerSecond: number; ledgeredEventsPerSecond: number; seconds: number };
  /** The reconciler's share: drifting action produced -> credential revoked in Postgres (revocations.latency_ms). */
  reconcilerP50Ms: number | null;
  reconcilerP99Ms: number | null;
}

/**
 * Revocation on drift, measured end to end under fleet load: while a fleet of agents produces signed events at
 * `rate`/s through ingest and the reconciler (their own processes, as deployed), agents that hold a credential
 * from the broker report an action outside their intent. Latency is from that action's Kafka record timestamp to
 * the instant the gateway's revocation list holds the credential, after which every call is refused; each sample
 * is then confirmed with a real call, which must be refused with CREDENTIAL_REVOKED.
 */
export async function runRevocationBench(opts: RevocationBenchOptions): Promise<RevocationReport> {
  const { print } = opts;
  const prefix = `benchrev${randomBytes(3).toString('hex')}`;
  const config = loadConfig({ ...process.env, IL_TOPIC_PREFIX: prefix });
  const servers = await ensureServices();
  await preflight(servers);
  await migrate(servers.databaseUrl);
  const kafka = createKafka(servers.kafkaBrokers, `${prefix}-bench`, 'silent');
  await ensureTopics(kafka, config);
  const pool = createPool(servers.databaseUrl, 8);
  const log = createLogger('warn', { component: 'revocation-bench' });
  const catalogue = loadCatalogue(config.cataloguePath);

  // Enough pre-signed load for the samples (one started every 250 ms) plus warm-up and drain.
  const seconds = Math.ceil(opts.samples * 0.25) + 12;
  const fleetAgents = 300;
  const perAgent = Math.ceil((opts.rate * seconds) / fleetAgents);
  print(`revocation: ${opts.samples} drifting agents under a fleet of ${fleetAgents} agents at ${opts.rate} events/s (${fleetAgents * perAgent} pre-signed events, topics ${prefix}.*)`);
  const fleet = buildFleet(`${prefix}-load`, fleetAgents, perAgent);
  for (let i = 0; i < fleet.length; i += 50) await Promise.all(fleet.slice(i, i + 50).map((a) => registerAgentKey(pool, { agentId: a.key.agentId, publicKey: a.key.publicKey })));

  const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_BROKERS: servers.kafkaBrokers.join(','), DATABASE_URL: servers.databaseUrl, IL_TOPIC_PREFIX: prefix, IL_LOG_LEVEL: 'warn' };
  const consumers = opts.consumers ?? Math.max(1, Math.min(os.cpus().length, config.partitions));
  const logDir = path.join(loadDevServersConfig().cacheDir, 'logs', prefix);
  const procs: ConsumerProcess[] = [];
  const producer: Producer = createAgentProducer(kafka);
  const loadProducer = kafka.producer({ allowAutoTopicCreation: false });
  const brokerKey = nodeAgentKey('broker');
  const gwKey = nodeAgentKey(`${prefix}-gateway`);
  const list = new RevocationList();
  const learned = new Map<string, number>();
  let closers: Array<() => Promise<unknown>> = [];
  try {
    procs.push(...(await Promise.all(Array.from({ length: consumers }, (_, i) => startConsumerProcess('ingest', env, logDir, 60_000, i)))));
    procs.push(await startConsumerProcess('reconcile', env, logDir, 60_000));
    await Promise.all([producer.connect(), loadProducer.connect()]);
    await waitForStableGroup(kafka, config.ingestGroup, consumers);

    const broker = await startBroker({
      pool, key: { ...brokerKey, keyId: brokerKey.keyId }, maxCredentialSeconds: 900, dpopMaxAgeMs: config.dpopMaxAgeMs, port: 0, log,
      publish: async (n) => void (await producer.send({ topic: config.topics.revocations, messages: [{ key: n.agentId, value: JSON.stringify(n) }] })),
    });
    await registerAgentKey(pool, { agentId: gwKey.agentId, publicKey: gwKey.publicKey, role: 'gateway' });
    const listener = await startRevocationListener(kafka, config.topics.revocations, list, log, (n, at) => {
      if (n.type !== 'token.revoked') learned.set(n.credentialId, at);
    });
    await listener.caughtUp;
    const gateway = await startGateway({
      reporter: new AgentClient({ key: gwKey, producer, topic: config.topics.events }), brokerPublicKey: brokerKey.publicKey, revocations: list, catalogue,
      dpopMaxAgeMs: config.dpopMaxAgeMs, port: 0, log,
    });
    closers = [() => gateway.close(), () => broker.close(), () => listener.stop()];

    // The fleet load, paced: every 20 ms the events due by then, in round order so each agent's chain stays in order.
    const queue = roundOrder(fleet);
    let sent = 0;
    let loadDone = false;
    let loadEnd = 0;
    const loadStart = Date.now();
    const load = (async () => {
      while (sent < queue.length) {
        const due = Math.min(queue.length, Math.floor(((Date.now() - loadStart) / 1000) * opts.rate));
        if (due > sent) {
          const batch = queue.slice(sent, due);
          await loadProducer.send({ topic: config.topics.events, acks: -1, messages: batch.map((e) => ({ key: e.agentId, value: e.bytes, timestamp: String(Date.now()) })) });
          sent = due;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      loadDone = true;
      loadEnd = Date.now();
    })();

    // Samples start once the load has run a few seconds, one every 250 ms, and only while it lasts.
    await new Promise((r) => setTimeout(r, 3000));
    const ledgeredAtStart = await ledgeredCount(pool, `${prefix}-load%`);
    const measureStart = Date.now();
    const results: Array<Promise<{ ms: number; refused: boolean } | null>> = [];
    for (let i = 0; i < opts.samples && !loadDone; i++) {
      results.push(sample(i).catch((e: unknown) => {
        log.error('revocation sample failed', { sample: i, error: (e as Error).message });
        return null;
      }));
      await new Promise((r) => setTimeout(r, 250));
    }
    const done = (await Promise.all(results)).filter((x): x is { ms: number; refused: boolean } => x !== null);
    const measureSeconds = (Date.now() - measureStart) / 1000;
    // Rates while the samples ran (or until the load ran out, if it did first).
    const loadSeconds = ((loadDone ? loadEnd : Date.now()) - loadStart) / 1000;
    const producedRate = sent / loadSeconds;
    const ledgeredRate = ((await ledgeredCount(pool, `${prefix}-load%`)) - ledgeredAtStart) / Math.max(1, measureSeconds);
    if (loadDone && loadEnd < Date.now() - 1000) print(`  the load ran out ${((Date.now() - loadEnd) / 1000).toFixed(1)} s before the last sample ended`);
    await load;

    const rec = (
      await pool.query<{ p50: number | null; p99: number | null }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99 FROM revocations WHERE agent_id LIKE $1`,
        [`${prefix}-probe%`],
      )
    ).rows[0]!;
    const ms = done.map((d) => d.ms);
    const r1 = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
    const report: RevocationReport = {
      p50Ms: r1(percentile(ms, 50)),
      p99Ms: r1(percentile(ms, 99)),
      maxMs: r1(ms.length ? Math.max(...ms) : null),
      samples: done.length,
      refusedAfter: done.filter((d) => d.refused).length,
      load: { targetEventsPerSecond: opts.rate, producedEventsPerSecond: Math.round(producedRate), ledgeredEventsPerSecond: Math.round(ledgeredRate), seconds: Math.round(measureSeconds * 10) / 10 },
      reconcilerP50Ms: r1(rec.p50 === null ? null : Number(rec.p50)),
      reconcilerP99Ms: r1(rec.p99 === null ? null : Number(rec.p99)),
    };
    print(`revocation drift produced -> gateway refuses: p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms, max ${report.maxMs} ms over ${report.samples} samples (${report.refusedAfter} confirmed refused)`);
    print(`           under load: ${report.load.producedEventsPerSecond} events/s produced, ${report.load.ledgeredEventsPerSecond} events/s ledgered; reconciler share (produced -> revoked in Postgres) p50 ${report.reconcilerP50Ms} ms, p99 ${report.reconcilerP99Ms} ms`);
    return report;

    /** One drifting agent: intent, credential, one good call, then an out-of-scope action; returns the latency. */
    async function sample(i: number): Promise<{ ms: number; refused: boolean }> {
      const key = nodeAgentKey(`${prefix}-probe-${String(i).padStart(4, '0')}`);
      await registerAgentKey(pool, { agentId: key.agentId, publicKey: key.publicKey });
      const client = new AgentClient({ key, producer, topic: config.topics.events });
      const creds = new CredentialClient(key, broker.url);
      const { intentId } = await client.declareIntent({ task: 'check the balance', purpose: 'revocation bench', allowedTools: ['get_balance'], allowedTargets: [], dataClasses: ['financial'] });
      const cred = await retry(() => creds.obtain(intentId), 120_000);
      const ok = await creds.callTool(gateway.url, cred, 'get_balance', {}, `act-${i}-0`);
      if (ok.status !== 200) throw new Error(`first call refused: ${JSON.stringify(ok.body)}`);
      await client.reportAction({ intentId, tool: 'get_balance', args: {}, actionId: `act-${i}-0` });
      const t0 = Date.now();
      await client.reportAction({ intentId, tool: 'send_money', args: { recipient: 'US133000000121212121212', amount: 100, subject: 'x', date: '2026-01-01' }, actionId: `act-${i}-1` });
      const t1 = await waitFor(() => learned.get(cred.credentialId), 60_000);
      const after = await creds.callTool(gateway.url, cred, 'get_balance', {});
      return { ms: t1 - t0, refused: after.status === 401 && after.body.reason_code === 'CREDENTIAL_REVOKED' };
    }
  } finally {
    for (const c of closers) await c().catch(() => undefined);
    await Promise.all(procs.map((p) => p.stop()));
    await producer.disconnect().catch(() => undefined);
    await loadProducer.disconnect().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

function roundOrder(fleet: FleetAgent[]): Array<{ agentId: string; bytes: Buffer }> {
  const out: Array<{ agentId: string; bytes: Buffer }> = [];
  const rounds = Math.max(...fleet.map((a) => a.events.length));
  for (let r = 0; r < rounds; r++) for (const a of fleet) if (r < a.events.length) out.push({ agentId: a.key.agentId, bytes: a.events[r]!.bytes });
  return out;
}

async function ledgeredCount(pool: Pool, pattern: string): Promise<number> {
  return Number((await pool.query('SELECT count(*) AS n FROM ledger_events WHERE agent_id LIKE $1', [pattern])).rows[0].n);
}

/** The intent reaches the broker through Kafka, ingest and the reconciler: ask again until it has. */
async function retry<T>(f: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() > deadline || (e as { reason?: string }).reason !== 'INTENT_UNKNOWN') throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function waitFor(probe: () => number | undefined, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not revoked at the gateway after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

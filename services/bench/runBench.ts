import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { loadConfig } from '../common/config';
import { createKafka, ensureTopics, waitForStableGroup } from '../common/kafka';
import { createPool } from '../common/db';
import { ensureServices } from '../devservers';
import { loadConfig as loadDevServersConfig } from '../devservers/config';
import { preflight } from '../common/preflight';
import { migrate } from '../../schema/migrate';
import { registerAgentKey } from '../registry';
import { startConsumerProcess } from '../demo/consumerProcess';
import { buildFleet, FleetAgent } from './benchFleet';
import type { Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { verifyCeiling, kafkaConsumeCeiling, copyCeiling } from './ceilings';
import { runRevocationBench } from './revocationBench';

export interface BenchOptions {
  agents: number;
  eventsPerAgent: number;
  /** Ingest processes in the consumer group (default: one per core, at most one per partition). */
  consumers?: number;
  reportPath?: string;
  print?: (line: string) => void;
  /** Which sections to run: ingest throughput, revocation latency, or both (default). */
  section?: 'ingest' | 'revocation' | 'all';
  /** Revocation section: drifting agents measured (default 100) and the fleet load in events/s (default 1200). */
  revocationSamples?: number;
  revocationRate?: number;
}

/** The benchmark's sections, one report: `ingest` (throughput against ceilings) and `revocation` (drift to refusal). */
export async function runBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const print = opts.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const section = opts.section ?? 'all';
  let report: Record<string, unknown> = { machine: { cpus: os.cpus().length, node: process.version } };
  if (section !== 'revocation') report = { ...report, ...(await runIngestBench({ ...opts, print })) };
  if (section !== 'ingest') {
    if (section === 'all') print('');
    report.revocation = await runRevocationBench({ samples: opts.revocationSamples ?? 100, rate: opts.revocationRate ?? 1200, consumers: opts.consumers, print });
  }
  if (opts.reportPath) {
    writeFileSync(opts.reportPath, JSON.stringify(report, null, 2) + '\n');
    print(`report     ${opts.reportPath}`);
  }
  return report;
}

/**
 * Ingest throughput, end to end on the real servers: a fleet of agents produces signed events while the ingest
 * consumer (its own process, as deployed) verifies and ledgers them. Then, in the same run and on the same data,
 * the ceilings our rate is compared with: native verify on one core, a raw Kafka consume, a raw COPY.
 */
async function runIngestBench(opts: BenchOptions & { print: (line: string) => void }): Promise<Record<string, unknown>> {
  const print = opts.print;
  const prefix = `bench${randomBytes(3).toString('hex')}`;
  const config = loadConfig({ ...process.env, IL_TOPIC_PREFIX: prefix });
  const servers = await ensureServices();
  await preflight(servers);
  await migrate(servers.databaseUrl);
  const kafka = createKafka(servers.kafkaBrokers, `${prefix}-bench`, 'silent');
  await ensureTopics(kafka, config);
  const pool = createPool(servers.databaseUrl, 8);
  const total = opts.agents * opts.eventsPerAgent;
  print(`bench: ${opts.agents} agents x ${opts.eventsPerAgent} events = ${total} signed events (topics ${prefix}.*)`);

  const t0 = Date.now();
  const fleet = buildFleet(`${prefix}-agent`, opts.agents, opts.eventsPerAgent);
  print(`  fleet signed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (let i = 0; i < fleet.length; i += 50) {
    await Promise.all(fleet.slice(i, i + 50).map((a) => registerAgentKey(pool, { agentId: a.key.agentId, publicKey: a.key.publicKey })));
  }

  const env: NodeJS.ProcessEnv = {
    ...process.env, KAFKA_BROKERS: servers.kafkaBrokers.join(','), DATABASE_URL: servers.databaseUrl, IL_TOPIC_PREFIX: prefix, IL_LOG_LEVEL: 'warn',
  };
  const consumers = opts.consumers ?? Math.max(1, Math.min(os.cpus().length, config.partitions));
  const logDir = path.join(loadDevServersConfig().cacheDir, 'logs', prefix);
  const ingests = await Promise.all(Array.from({ length: consumers }, (_, i) => startConsumerProcess('ingest', env, logDir, 60_000, i)));
  const ingest = { stop: () => Promise.all(ingests.map((c) => c.stop())).then(() => undefined) };
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    // The clock must not run through a rebalance or a cold start: wait for a stable group, then ledger a small
    // warm-up fleet (its own agents, not counted) so every ingest process has fetched, verified and committed.
    await waitForStableGroup(kafka, config.ingestGroup, consumers);
    const warm = buildFleet(`${prefix}-warmup`, 100, 5);
    for (const a of warm) await registerAgentKey(pool, { agentId: a.key.agentId, publicKey: a.key.publicKey });
    await produceRounds(producer, config.topics.events, warm);
    await waitForLedgered(pool, `${prefix}-warmup%`, 500, 120_000);
    // Settled past kafkajs's 3 s heartbeat, so a rebalance still pending (a member that restarted) shows first.
    await waitForStableGroup(kafka, config.ingestGroup, consumers, 120_000, 4000);
    print(`  ${consumers} ingest process(es) in one consumer group over ${config.partitions} partitions; warmed up on 500 events`);
    const started = Date.now();
    await produceRounds(producer, config.topics.events, fleet);
    const producedIn = (Date.now() - started) / 1000;
    await waitForLedgered(pool, `${prefix}-agent%`, total, 600_000);
    const elapsed = (Date.now() - started) / 1000;
    const rejected = Number((await pool.query('SELECT count(*) AS n FROM rejected_events WHERE agent_id LIKE $1', [`${prefix}-agent%`])).rows[0].n);
    const lat = (
      await pool.query<{ p50: number; p99: number }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
           FROM (SELECT extract(epoch FROM ledgered_at - produced_at) * 1000 AS ms FROM ledger_events WHERE agent_id LIKE $1) t`,
        [`${prefix}-agent%`],
      )
    ).rows[0]!;
    const eventsPerSecond = total / elapsed;
    print(`  produced in ${producedIn.toFixed(1)} s; all ${total} ledgered (and offsets committed) after ${elapsed.toFixed(1)} s; rejected ${rejected}`);
    await ingest.stop();

    print('  measuring ceilings on the same data ...');
    const verifyPerSecond = verifyCeiling(fleet);
    const kafkaConsumePerSecond = await kafkaConsumeCeiling(kafka, config.topics.events, total);
    const copy = await copyCeiling(pool, `${prefix}-agent`);
    const ceilings = { verifyPerSecond, kafkaConsumePerSecond, copyRowsPerSecond: copy.rowsPerSecond };
    const smallest = Object.entries(ceilings).sort((a, b) => a[1] - b[1])[0]!;
    const round = (v: number) => Math.round(v);
    const report = {
      machine: { cpus: os.cpus().length, node: process.version },
      fleet: { agents: opts.agents, eventsPerAgent: opts.eventsPerAgent, events: total },
      ingestProcesses: consumers,
      ingest: {
        eventsPerSecond: round(eventsPerSecond),
        p50Ms: Math.round(Number(lat.p50) * 10) / 10,
        p99Ms: Math.round(Number(lat.p99) * 10) / 10,
        ledgered: total,
        rejected,
        seconds: Math.round(elapsed * 100) / 100,
        ratioToCeiling: Math.round((eventsPerSecond / smallest[1]) * 1000) / 1000,
        smallestCeiling: smallest[0],
      },
      ceilings: { verifyPerSecond: round(verifyPerSecond), kafkaConsumePerSecond: round(kafkaConsumePerSecond), copyRowsPerSecond: round(copy.rowsPerSecond) },
    };
    print('');
    print(`ingest     ${report.ingest.eventsPerSecond} events/s end to end (every signature verified), latency p50 ${report.ingest.p50Ms} ms, p99 ${report.ingest.p99Ms} ms`);
    print(`ceilings   verify ${report.ceilings.verifyPerSecond}/s on one core, raw Kafka consume ${report.ceilings.kafkaConsumePerSecond}/s, raw COPY ${report.ceilings.copyRowsPerSecond} rows/s`);
    print(`ratio      ${report.ingest.ratioToCeiling} of the smallest ceiling (${smallest[0]})`);
    return report;
  } finally {
    await producer.disconnect().catch(() => undefined);
    await ingest.stop().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

/** Round r carries event r of every agent; rounds go out one after another, so each agent's chain stays in order. */
async function produceRounds(producer: Producer, topic: string, fleet: FleetAgent[]): Promise<void> {
  const rounds = Math.max(...fleet.map((a) => a.events.length));
  for (let r = 0; r < rounds; r++) {
    await producer.send({
      topic,
      acks: -1,
      messages: fleet.filter((a) => r < a.events.length).map((a) => ({ key: a.key.agentId, value: a.events[r]!.bytes, timestamp: String(Date.now()) })),
    });
  }
}

/** Polls until `expected` ledger rows exist for agents matching `pattern`; throws after `timeoutMs`. */
async function waitForLedgered(pool: Pool, pattern: string, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = Number((await pool.query('SELECT count(*) AS n FROM ledger_events WHERE agent_id LIKE $1', [pattern])).rows[0].n);
    if (n >= expected) return;
    if (Date.now() > deadline) throw new Error(`bench: only ${n} of ${expected} events (${pattern}) ledgered after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

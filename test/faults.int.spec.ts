import path from 'node:path';
import type { Admin } from 'kafkajs';
import { createHarness, eventually, Harness } from './pipelineHarness';
import { startFleet as startFleetOf, Fleet, FleetOptions } from './fleet';
import { startConsumerProcess, ConsumerProcess } from '../services/demo/consumerProcess';
import { loadConfig as loadDevServersConfig, restartPostgres, startKafka, startPostgres, stopKafka } from '../services/devservers';

/**
 * Exactly-once effect under faults, on the real servers: a fleet of agents produces continuously through the SDK
 * while an ingest consumer (a real process, as deployed) is killed, rebalanced, or loses Postgres or Kafka under
 * it. Afterwards the ledger must hold exactly the events Kafka acknowledged to the fleet: none missing, none twice,
 * every agent's chain contiguous and linked, its head at the last event, and nothing rejected but re-sends.
 */

const AGENTS = 50;
const PAUSE_MS = 150; // per agent: ~50 agents x ~6 events/s, modest for a 2-core machine
const FAULT_TIMEOUT_MS = 600_000;

describe('exactly-once effect under faults (real Kafka, Postgres and consumer processes)', () => {
  let h: Harness;
  let admin: Admin;
  const running: ConsumerProcess[] = [];
  const fleets: Fleet[] = [];
  const dev = loadDevServersConfig();
  // globalSetup exports the addresses it used; they are ours only if they are the project's own servers.
  const managed = { kafka: process.env.KAFKA_BROKERS === dev.kafka.broker, postgres: process.env.DATABASE_URL === dev.postgres.databaseUrl };
  const logRoot = path.join(dev.cacheDir, 'logs', 'faults');

  beforeAll(async () => {
    h = await createHarness();
    admin = h.kafka.admin();
    await admin.connect();
  });

  // A failed case must not leave its fleet producing, or its consumers running, into the next one.
  afterEach(async () => {
    await Promise.all(fleets.splice(0).map((f) => f.abandon()));
    await Promise.all(running.splice(0).map((c) => c.stop().catch(() => undefined)));
  });

  afterAll(async () => {
    // Whatever happened above, leave both servers up for the test files that follow.
    if (managed.postgres) await startPostgres().catch((e) => process.stderr.write(`faults: could not restart Postgres: ${e}\n`));
    if (managed.kafka) await startKafka().catch((e) => process.stderr.write(`faults: could not restart Kafka: ${e}\n`));
    await admin?.disconnect().catch(() => undefined);
    await h?.stop();
  });

  async function startFleet(opts: FleetOptions): Promise<Fleet> {
    const f = await startFleetOf(h, h.pool, opts);
    fleets.push(f);
    return f;
  }

  /** `intent-ledger ingest` as its own process, in the harness's consumer group, tagged in pg_stat_activity. */
  async function startIngest(name: string): Promise<ConsumerProcess> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      DATABASE_URL: process.env.DATABASE_URL,
      IL_TOPIC_PREFIX: h.config.topics.events.replace(/\.events$/, ''),
      IL_LOG_LEVEL: 'info',
      PGAPPNAME: appName(name),
    };
    // Jest sets NODE_ENV=test, which switches kafkajs to its short test-mode retries; run as deployed instead.
    delete env.NODE_ENV;
    const c = await startConsumerProcess('ingest', env, path.join(logRoot, h.config.topics.events, name), 180_000);
    running.push(c);
    return c;
  }

  const appName = (name: string) => `il-faults-${h.config.topics.events}-${name}`.slice(0, 63);

  async function stopIngest(c: ConsumerProcess): Promise<void> {
    await c.stop();
    forget(c);
  }

  function forget(c: ConsumerProcess): void {
    const i = running.indexOf(c);
    if (i >= 0) running.splice(i, 1);
  }

  function requireManaged(server: 'kafka' | 'postgres'): void {
    if (managed[server]) return;
    const variable = server === 'kafka' ? 'KAFKA_BROKERS' : 'DATABASE_URL';
    throw new Error(
      `This fault restarts ${server}, which only works on the server the project starts itself; ${variable} points at ` +
        `${process.env[variable]}, not the managed ${server === 'kafka' ? dev.kafka.broker : dev.postgres.databaseUrl}. ` +
        `Unset KAFKA_BROKERS and DATABASE_URL (as CI does) to run it.`,
    );
  }

  /** Returns as soon as the named consumer has an ingest transaction open (polled back to back). */
  async function inTransaction(name: string): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const r = await h.pool.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND xact_start IS NOT NULL AND state <> 'idle'", [appName(name)]);
      if (r.rows.length > 0) return;
      if (Date.now() > deadline) throw new Error(`never saw ${name} with an ingest transaction open`);
    }
  }

  async function ledgered(fleet: Fleet): Promise<number> {
    return (await h.pool.query('SELECT count(*)::int AS n FROM ledger_events WHERE agent_id = ANY($1::text[])', [fleet.agentIds])).rows[0].n;
  }

  /** Waits until the consumer group has committed every record on the events topic (and so ledgered or rejected it). */
  async function settle(fleet: Fleet): Promise<void> {
    const ids = [...fleet.acked.keys()];
    await eventually(async () => {
      const n = (await h.pool.query('SELECT count(*)::int AS n FROM ledger_events WHERE event_id = ANY($1::text[])', [ids])).rows[0].n;
      return n === ids.length ? true : undefined;
    }, 300_000, `all ${ids.length} acknowledged events of fleet to be ledgered`);
    await eventually(async () => {
      const ends = await admin.fetchTopicOffsets(h.config.topics.events);
      const [committed] = await admin.fetchOffsets({ groupId: h.config.ingestGroup, topics: [h.config.topics.events] });
      const lag = ends.map((e) => BigInt(e.high) - BigInt(committed!.partitions.find((p) => p.partition === e.partition)?.offset ?? '0'));
      return lag.every((l) => l <= 0n) ? true : undefined;
    }, 300_000, 'the ingest group to commit the whole events topic');
  }

  /** The ledger holds exactly what the fleet was acknowledged, once each, in intact chains. */
  async function verify(fleet: Fleet): Promise<{ ledgered: number; duplicatesRejected: number }> {
    const rows = (
      await h.pool.query<{ event_id: string; agent_id: string; seq: string; prev_hash: string | null; event_hash: string; kafka_partition: number; kafka_offset: string }>(
        'SELECT event_id, agent_id, seq, prev_hash, event_hash, kafka_partition, kafka_offset FROM ledger_events WHERE agent_id = ANY($1::text[]) ORDER BY agent_id, seq',
        [fleet.agentIds],
      )
    ).rows;
    const ids = rows.map((r) => r.event_id);
    const idSet = new Set(ids);
    expect(idSet.size).toBe(ids.length); // none twice
    const missing = [...fleet.acked.keys()].filter((id) => !idSet.has(id));
    const extra = ids.filter((id) => !fleet.acked.has(id));
    expect({ missing: missing.slice(0, 5), extra: extra.slice(0, 5), ledgered: ids.length }).toEqual({ missing: [], extra: [], ledgered: fleet.acked.size });

    const byAgent = new Map<string, typeof rows>();
    for (const r of rows) byAgent.set(r.agent_id, [...(byAgent.get(r.agent_id) ?? []), r]);
    const heads = new Map(
      (await h.pool.query<{ agent_id: string; last_seq: string; last_hash: string }>('SELECT agent_id, last_seq, last_hash FROM agent_heads WHERE agent_id = ANY($1::text[])', [fleet.agentIds])).rows.map((r) => [r.agent_id, r]),
    );
    for (const agentId of fleet.agentIds) {
      const chain = byAgent.get(agentId) ?? [];
      const broken = chain.flatMap((r, i) => {
        const problems: string[] = [];
        if (Number(r.seq) !== i + 1) problems.push(`seq ${r.seq} at position ${i + 1}`);
        if (r.prev_hash !== (i === 0 ? null : chain[i - 1]!.event_hash)) problems.push(`seq ${r.seq} prevHash does not link`);
        if (r.event_hash !== fleet.acked.get(r.event_id)?.hash) problems.push(`seq ${r.seq} hash differs from what was signed`);
        return problems;
      });
      expect({ agentId, broken }).toEqual({ agentId, broken: [] });
      const head = heads.get(agentId);
      expect({ agentId, lastSeq: Number(head?.last_seq), lastHash: head?.last_hash }).toEqual({ agentId, lastSeq: chain.length, lastHash: chain.length ? chain[chain.length - 1]!.event_hash : '' });
    }

    // Rejected: only re-sends of events already ledgered (a send retried after an ambiguous failure), and never a
    // Kafka record that is also a ledger row.
    const rejected = (await h.pool.query<{ reason_code: string; event_id: string; kafka_partition: number; kafka_offset: string }>(
      'SELECT reason_code, event_id, kafka_partition, kafka_offset FROM rejected_events WHERE agent_id = ANY($1::text[])',
      [fleet.agentIds],
    )).rows;
    expect([...new Set(rejected.map((r) => r.reason_code))].filter((c) => c !== 'DUPLICATE_EVENT')).toEqual([]);
    expect(rejected.filter((r) => !fleet.acked.has(r.event_id))).toEqual([]);
    const coords = new Set(rows.map((r) => `${r.kafka_partition}/${r.kafka_offset}`));
    expect(rejected.filter((r) => coords.has(`${r.kafka_partition}/${r.kafka_offset}`))).toEqual([]);
    const findings = (await h.pool.query('SELECT reason_code, agent_id, detail FROM integrity_findings WHERE agent_id = ANY($1::text[])', [fleet.agentIds])).rows;
    expect(findings).toEqual([]);
    return { ledgered: rows.length, duplicatesRejected: rejected.length };
  }

  function note(fault: string, fleet: Fleet, result: { ledgered: number; duplicatesRejected: number }, t0: number, extra = ''): void {
    process.stderr.write(
      `[faults] ${fault}: ${result.ledgered} events ledgered exactly once from ${fleet.agentIds.length} agents; ` +
        `${result.duplicatesRejected} re-sends rejected as DUPLICATE_EVENT; ${fleet.retries} SDK send retries; ${((Date.now() - t0) / 1000).toFixed(0)} s${extra ? '; ' + extra : ''}\n`,
    );
  }

  it('kill -9 of an ingest consumer mid-batch', async () => {
    const t0 = Date.now();
    const a = await startIngest('kill9-a');
    const fleet = await startFleet({ name: 'kill9', agents: AGENTS, pauseMs: PAUSE_MS });
    await fleet.progress(500);
    await eventually(async () => ((await ledgered(fleet)) > 0 ? true : undefined), 120_000, 'the first ledgered events');
    // Mid-batch: kill the moment the consumer has an ingest transaction open in Postgres.
    await inTransaction('kill9-a');
    process.kill(a.pid, 'SIGKILL');
    expect(await a.exited).toEqual({ code: null, signal: 'SIGKILL' });
    forget(a);
    await fleet.progress(500); // produced while no consumer runs
    const b = await startIngest('kill9-b');
    await fleet.progress(500);
    await fleet.stop();
    await settle(fleet);
    const result = await verify(fleet);
    await stopIngest(b);
    note('kill -9 mid-batch', fleet, result, t0);
  }, FAULT_TIMEOUT_MS);

  it('a clean stop (SIGTERM) mid-batch commits the batch it ledgered', async () => {
    const t0 = Date.now();
    const a = await startIngest('sigterm-a');
    const fleet = await startFleet({ name: 'sigterm', agents: AGENTS, pauseMs: PAUSE_MS });
    await fleet.progress(500);
    await eventually(async () => ((await ledgered(fleet)) > 0 ? true : undefined), 120_000, 'the first ledgered events');
    await inTransaction('sigterm-a');
    await stopIngest(a);
    // Everything the stopped consumer ledgered or rejected is committed: a restart fetches none of it again.
    const done = await h.pool.query<{ p: number; next: string }>(
      `SELECT kafka_partition AS p, (max(kafka_offset) + 1)::text AS next FROM (
         SELECT kafka_partition, kafka_offset FROM ledger_events WHERE kafka_topic = $1
         UNION ALL SELECT kafka_partition, kafka_offset FROM rejected_events WHERE kafka_topic = $1) x GROUP BY kafka_partition ORDER BY 1`,
      [h.config.topics.events],
    );
    const [committed] = await admin.fetchOffsets({ groupId: h.config.ingestGroup, topics: [h.config.topics.events] });
    const committedBy = new Map(committed!.partitions.map((p) => [p.partition, p.offset]));
    expect(done.rows.length).toBeGreaterThan(0);
    expect(done.rows.map((r) => ({ partition: r.p, committed: committedBy.get(r.p) }))).toEqual(done.rows.map((r) => ({ partition: r.p, committed: r.next })));
    const b = await startIngest('sigterm-b');
    await fleet.stop();
    await settle(fleet);
    const result = await verify(fleet);
    await stopIngest(b);
    note('clean stop mid-batch', fleet, result, t0);
  }, FAULT_TIMEOUT_MS);

  it('two ingest consumers in one group, with rebalances as one joins and the other leaves', async () => {
    const t0 = Date.now();
    const a = await startIngest('rebalance-a');
    const fleet = await startFleet({ name: 'rebalance', agents: AGENTS, pauseMs: PAUSE_MS });
    await fleet.progress(500);
    const b = await startIngest('rebalance-b');
    const members = await eventually(async () => {
      const { groups } = await admin.describeGroups([h.config.ingestGroup]);
      const g = groups[0]!;
      return g.state === 'Stable' && g.members.length === 2 ? g.members.length : undefined;
    }, 120_000, 'both consumers in the group');
    expect(members).toBe(2);
    await fleet.progress(1000);
    await stopIngest(a); // leaves: its partitions move to b
    await fleet.progress(500);
    await fleet.stop();
    await settle(fleet);
    const result = await verify(fleet);
    await stopIngest(b);
    note('rebalance', fleet, result, t0);
  }, FAULT_TIMEOUT_MS);

  it('a Postgres restart under the running consumer', async () => {
    requireManaged('postgres');
    const t0 = Date.now();
    const a = await startIngest('pg-a');
    const fleet = await startFleet({ name: 'pgrestart', agents: AGENTS, pauseMs: PAUSE_MS });
    await fleet.progress(500);
    await eventually(async () => ((await ledgered(fleet)) > 0 ? true : undefined), 120_000, 'the first ledgered events');
    await inTransaction('pg-a'); // so that the shutdown is likely to catch a batch in flight
    await restartPostgres();
    const after = await eventually(async () => ledgered(fleet).catch(() => undefined), 120_000, 'Postgres to answer again');
    await fleet.progress(500);
    await eventually(async () => ((await ledgered(fleet)) > after ? true : undefined), 180_000, 'ledgering to resume after the restart');
    await fleet.stop();
    await settle(fleet);
    const result = await verify(fleet);
    expect(await Promise.race([a.exited, new Promise((r) => setTimeout(() => r('running'), 100))])).toBe('running'); // it rode it out
    await stopIngest(a);
    note('Postgres restart', fleet, result, t0);
  }, FAULT_TIMEOUT_MS);

  it('a Kafka broker restart under the running consumer and the producing fleet', async () => {
    requireManaged('kafka');
    const t0 = Date.now();
    const a = await startIngest('kafka-a');
    const fleet = await startFleet({ name: 'kafkarestart', agents: AGENTS, pauseMs: PAUSE_MS });
    await fleet.progress(500);
    await eventually(async () => ((await ledgered(fleet)) > 0 ? true : undefined), 120_000, 'the first ledgered events');
    const retriesBefore = fleet.retries;
    // A restart, held down until the outage has reached the SDK: sends are failing and being retried, same bytes.
    await stopKafka();
    await eventually(async () => (fleet.retries > retriesBefore ? true : undefined), 180_000, 'a failed send to reach the SDK while Kafka is down');
    await startKafka();
    await fleet.progress(500, 300_000);
    const before = await ledgered(fleet);
    await eventually(async () => ((await ledgered(fleet)) > before ? true : undefined), 300_000, 'ledgering to resume after the restart');
    await fleet.stop();
    await settle(fleet);
    const result = await verify(fleet);
    expect(await Promise.race([a.exited, new Promise((r) => setTimeout(() => r('running'), 100))])).toBe('running');
    await stopIngest(a);
    note('Kafka restart', fleet, result, t0, `${fleet.retries - retriesBefore} retries during the restart`);
  }, FAULT_TIMEOUT_MS);
});

import { writeFileSync, statSync, accessSync, constants as fsConstants } from 'node:fs';
import { IntentLedgerError } from '../common/errors';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Producer } from 'kafkajs';
import type { Pool } from 'pg';
import { loadConfig, Config } from '../common/config';
import { createKafka, ensureTopics } from '../common/kafka';
import { createPool } from '../common/db';
import { ensureServices } from '../devservers';
import { loadConfig as loadDevServersConfig } from '../devservers/config';

const logDirOf = () => path.join(loadDevServersConfig().cacheDir, 'logs');
import { preflight } from '../common/preflight';
import { migrate } from '../../schema/migrate';
import { loadReconcilePolicy, type ReconcilePolicy } from '../../consumers/reconciler/reconcileNotice';
import { AgentClient, createAgentKey, createAgentProducer, SentEvent } from '../sdk';
import { registerAgentKey } from '../registry';
import { startConsumerProcess } from './consumerProcess';
import { readTraces, Trace } from './agentdojo/traces';
import { deriveIntent } from './agentdojo/deriveIntent';
import { toAction } from './agentdojo/toAction';
import { score, Confusion } from './agentdojo/scoring';
import { percentile } from './percentile';

export const DEFAULT_TRACES = path.join(__dirname, 'agentdojo', 'data', 'traces.jsonl');

export interface RunOptions {
  tracesPath: string;
  reportPath: string;
  cataloguePath?: string;
  concurrency?: number;
  adversarial?: boolean;
  timeoutMs?: number;
  print?: (line: string) => void;
  /** Print every misclassified call (eval does; the demo prints their number). */
  listMisclassified?: boolean;
}

interface LabelledAction {
  eventId: string;
  suite: string;
  traceId: string;
  /** The call's position in its trace (0-based). */
  index: number;
  tool: string;
  label: 'intent' | 'drift' | 'unknown';
}

/**
 * The main job: replays recorded AgentDojo runs as agents through the real pipeline. Each run becomes an agent
 * with its own key that declares an intent from the user's task (never from the labels or the attack), reports
 * every tool call as a signed action, and closes the intent. The report compares the ledger's drift findings
 * with the per-call labels.
 */
/** The report's destination is checked before the run, so a typo does not throw away minutes of work. */
export function checkReportPath(reportPath: string): void {
  const fail = (why: string) => {
    throw new IntentLedgerError('REPORT_PATH', `cannot write the report to "${reportPath}": ${why}`);
  };
  if (reportPath.trim() === '') fail('the path is empty');
  const dir = path.dirname(reportPath);
  let st;
  try {
    st = statSync(dir);
  } catch {
    return fail(`directory ${dir} does not exist`);
  }
  if (!st.isDirectory()) fail(`${dir} is not a directory`);
  try {
    if (statSync(reportPath).isDirectory()) fail('it is a directory');
  } catch (e) {
    if (e instanceof IntentLedgerError) throw e;
  }
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch {
    fail(`directory ${dir} is not writable`);
  }
}

export async function runAgentDojo(opts: RunOptions): Promise<Record<string, unknown>> {
  checkReportPath(opts.reportPath);
  const print = opts.print ?? ((l: string) => process.stdout.write(l + '\n'));
  const config = loadConfig();
  const started = Date.now();
  const traces = readTraces(opts.tracesPath);
  if (traces.length === 0) throw new IntentLedgerError('TRACE_INVALID', `${opts.tracesPath} holds no traces`);
  // The reconciler processes load the same files; loading them here first fails fast on a bad catalogue or policy.
  const rules = loadReconcilePolicy({ ...config, cataloguePath: opts.cataloguePath ?? config.cataloguePath });
  const catalogue = rules.catalogue;
  const suites = new Set(Object.values(catalogue.tools).flatMap((t) => t.toolsets));
  const stray = traces.find((t) => !suites.has(t.suite));
  if (stray) {
    throw new IntentLedgerError('TRACE_INVALID', `trace ${stray.id}: suite "${stray.suite}" is not in the tool catalogue (it knows ${[...suites].sort().join(', ')})`);
  }
  print(`intent-ledger: ${traces.length} agent runs from ${opts.tracesPath}`);

  const servers = await ensureServices({ log: (m) => print(`  ${m}`) });
  await preflight(servers);
  const applied = await migrate(servers.databaseUrl);
  if (applied.length > 0) print(`  migrations applied: ${applied.join(', ')}`);
  const kafka = createKafka(servers.kafkaBrokers, config.clientId, config.logLevel === 'debug' ? 'debug' : 'silent');
  await ensureTopics(kafka, config);
  const pool = createPool(servers.databaseUrl, 16);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, KAFKA_BROKERS: servers.kafkaBrokers.join(','), DATABASE_URL: servers.databaseUrl };
  if (opts.cataloguePath) childEnv.IL_CATALOGUE = opts.cataloguePath;
  const logDir = path.join(loadDevServersConfig().cacheDir, 'logs');
  const consumers = await Promise.all([startConsumerProcess('ingest', childEnv, logDir), startConsumerProcess('reconcile', childEnv, logDir)]);
  print(`  ingest and reconciler running as their own processes (logs in ${logDir}/)`);
  const producer = createAgentProducer(kafka);
  await producer.connect();

  try {
    const runId = `${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
    const prefix = `agentdojo-${runId}-`;
    const labelled: LabelledAction[] = [];
    let produced = 0;
    let firstEvent: SentEvent | null = null;

    const replayOne = async (trace: Trace, i: number) => {
      const key = createAgentKey(`${prefix}${String(i).padStart(4, '0')}`);
      await registerAgentKey(pool, { agentId: key.agentId, publicKey: key.publicKey, displayName: trace.id });
      const agent = new AgentClient({ key, producer, topic: config.topics.events });
      const declared = deriveIntent(trace, catalogue);
      const { intentId, event } = await agent.declareIntent({ ...declared, validForMs: 60 * 60 * 1000 });
      if (i === 0) firstEvent = event;
      produced += 1;
      for (const [index, call] of trace.tool_calls.entries()) {
        const action = toAction(call, catalogue);
        const { event } = await agent.reportAction({ intentId, tool: action.tool, args: action.args, targets: action.targets });
        produced += 1;
        labelled.push({ eventId: event.envelope.eventId, suite: trace.suite, traceId: trace.id, index, tool: action.tool, label: call.label });
      }
      await agent.closeIntent(intentId, 'completed');
      produced += 1;
      return agent;
    };

    const clients = await mapLimit(traces, opts.concurrency ?? 24, replayOne);
    print(`  produced ${produced} signed events from ${clients.length} agents`);

    let adversarial = 0;
    if (opts.adversarial !== false && clients.length > 0) {
      adversarial = await sendAdversarialEvents(producer, config, prefix, clients[0]!, firstEvent!);
      produced += adversarial;
      print(`  produced ${adversarial} adversarial records (replay, tampered, unregistered agent, not JSON)`);
    }

    const state = await waitForPipeline(pool, prefix, produced, opts.timeoutMs ?? Number(process.env.IL_DEMO_TIMEOUT_MS ?? 180_000), print);
    const report = await buildReport(pool, prefix, runId, opts, traces.length, produced, adversarial, labelled, state, started, rules);
    writeFileSync(opts.reportPath, JSON.stringify(report, null, 2) + '\n');
    printSummary(report, opts.reportPath, print, opts.listMisclassified === true);
    return report;
  } finally {
    await producer.disconnect().catch(() => undefined);
    await Promise.all(consumers.map((c) => c.stop().catch(() => undefined)));
    await pool.end().catch(() => undefined);
  }
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A few records an attacker or a broken client might send, so the demo shows the door closing. */
async function sendAdversarialEvents(producer: Producer, config: Config, prefix: string, victim: AgentClient, sent: SentEvent): Promise<number> {
  const first: SentEvent = victim.sign('intent.closed', { intentId: 'int_adversarial_probe', outcome: 'abandoned' });
  const tampered = { ...first.envelope, payload: { intentId: 'int_adversarial_probe', outcome: 'completed' } };
  const stranger = createAgentKey(`${prefix}unregistered`);
  const strangerClient = new AgentClient({ key: stranger, producer, topic: config.topics.events });
  const foreign = strangerClient.sign('intent.closed', { intentId: 'int_x', outcome: 'abandoned' });
  const messages = [
    { key: victim.agentId, value: sent.bytes }, // the same signed event sent again: DUPLICATE_EVENT, never a second row
    { key: victim.agentId, value: Buffer.from(JSON.stringify(tampered)) }, // payload changed after signing: SIG_INVALID
    { key: stranger.agentId, value: foreign.bytes }, // key never registered: UNKNOWN_AGENT
    { key: victim.agentId, value: Buffer.from('{"not": json') }, // MALFORMED_JSON
  ];
  await producer.send({ topic: config.topics.events, messages: messages.map((m) => ({ ...m, timestamp: String(Date.now()) })) });
  return messages.length;
}

interface PipelineState {
  ledgered: number;
  rejected: number;
  actionsLedgered: number;
  evaluated: number;
}

async function countState(pool: Pool, prefix: string): Promise<PipelineState> {
  const like = `${prefix}%`;
  const r = await pool.query<{ ledgered: string; rejected: string; actions: string; evaluated: string }>(
    `SELECT (SELECT count(*) FROM ledger_events WHERE agent_id LIKE $1) AS ledgered,
            (SELECT count(*) FROM ledger_events WHERE agent_id LIKE $1 AND type = 'action.reported') AS actions,
            (SELECT count(*) FROM rejected_events WHERE agent_id LIKE $1 OR position($2::bytea IN kafka_key) = 1) AS rejected,
            (SELECT count(*) FROM actions WHERE agent_id LIKE $1) AS evaluated`,
    [like, Buffer.from(prefix)],
  );
  const row = r.rows[0]!;
  return { ledgered: Number(row.ledgered), rejected: Number(row.rejected), actionsLedgered: Number(row.actions), evaluated: Number(row.evaluated) };
}

/** Settled: every produced record is ledgered or rejected, and every ledgered action has been reconciled. */
async function waitForPipeline(pool: Pool, prefix: string, produced: number, timeoutMs: number, print: (l: string) => void): Promise<PipelineState> {
  const deadline = Date.now() + timeoutMs;
  let lastPrint = 0;
  for (;;) {
    const s = await countState(pool, prefix);
    if (s.ledgered + s.rejected >= produced && s.evaluated >= s.actionsLedgered) return s;
    if (Date.now() > deadline) {
      throw new IntentLedgerError(
        'PIPELINE_TIMEOUT',
        `pipeline did not settle within ${timeoutMs} ms (IL_DEMO_TIMEOUT_MS): produced ${produced}, ledgered ${s.ledgered}, rejected ${s.rejected}, actions reconciled ${s.evaluated}/${s.actionsLedgered}; consumer logs are in ${logDirOf()}`,
      );
    }
    if (Date.now() - lastPrint > 5000) {
      print(`  waiting: ledgered ${s.ledgered} + rejected ${s.rejected} of ${produced}; actions reconciled ${s.evaluated}/${s.actionsLedgered}`);
      lastPrint = Date.now();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function buildReport(
  pool: Pool, prefix: string, runId: string, opts: RunOptions, traces: number, produced: number, adversarial: number,
  labelled: LabelledAction[], state: PipelineState, started: number, rules: ReconcilePolicy,
): Promise<Record<string, unknown>> {
  const like = `${prefix}%`;
  const reasons = await pool.query<{ reason_code: string; n: string }>(
    `SELECT reason_code, count(*) AS n FROM rejected_events WHERE agent_id LIKE $1 OR position($2::bytea IN kafka_key) = 1 GROUP BY 1 ORDER BY 1`,
    [like, Buffer.from(prefix)],
  );
  const findings = await pool.query<{ action_event_id: string; reason_code: string; severity: string; detail: string }>(
    'SELECT action_event_id, reason_code, severity, detail FROM drift_findings WHERE agent_id LIKE $1 ORDER BY id',
    [like],
  );
  const revocations = await pool.query<{ latency_ms: number }>('SELECT latency_ms FROM revocations WHERE agent_id LIKE $1', [like]);
  const flagged = new Set(findings.rows.map((f) => f.action_event_id));
  // A call whose event the ledger refused (too large, malformed...) was never judged: it is counted, not scored.
  const reconciled = new Set(
    (await pool.query<{ event_id: string }>('SELECT event_id FROM actions WHERE agent_id LIKE $1', [like])).rows.map((r) => r.event_id),
  );
  const judged = labelled.filter((a) => reconciled.has(a.eventId));
  const withRate = (c: Confusion) => ({ ...c, falsePositiveRate: c.fpr });
  const overall = withRate(score(judged.map((a) => ({ label: a.label, flagged: flagged.has(a.eventId) }))));
  const bySuite: Record<string, ReturnType<typeof withRate>> = {};
  for (const suite of [...new Set(labelled.map((a) => a.suite))].sort()) {
    bySuite[suite] = withRate(score(judged.filter((a) => a.suite === suite).map((a) => ({ label: a.label, flagged: flagged.has(a.eventId) }))));
  }
  // Every call scored wrong, with what the ledger said about it: the list an analyst tunes rules from.
  const findingsOf = new Map<string, string[]>();
  for (const f of findings.rows) findingsOf.set(f.action_event_id, [...(findingsOf.get(f.action_event_id) ?? []), `${f.reason_code} (${f.severity}): ${f.detail}`]);
  const misclassified = judged
    .filter((a) => a.label !== 'unknown' && (a.label === 'drift') !== flagged.has(a.eventId))
    .map((a) => ({
      kind: a.label === 'drift' ? 'false-negative' : 'false-positive',
      suite: a.suite, traceId: a.traceId, callIndex: a.index, tool: a.tool, label: a.label,
      reasons: findingsOf.get(a.eventId) ?? [],
    }));
  const count = (rows: Array<Record<string, string>>, key: string) =>
    rows.reduce<Record<string, number>>((acc, r) => ((acc[r[key]!] = (acc[r[key]!] ?? 0) + 1), acc), {});
  const latencies = revocations.rows.map((r) => Number(r.latency_ms));
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  return {
    runId,
    traces: { file: opts.tracesPath, runs: traces, toolCalls: labelled.length },
    events: {
      produced,
      ledgered: state.ledgered,
      rejected: state.rejected,
      adversarial,
      unaccounted: produced - state.ledgered - state.rejected,
      rejectedByReason: Object.fromEntries(reasons.rows.map((r) => [r.reason_code, Number(r.n)])),
    },
    findings: {
      drift: findings.rows.length,
      actionsFlagged: flagged.size,
      byReason: count(findings.rows, 'reason_code'),
      bySeverity: count(findings.rows, 'severity'),
    },
    revocations: revocations.rows.length,
    policy: { name: rules.policy!.name, version: rules.policy!.version, revokeAtSeverity: rules.revokeAt },
    detection: { ...overall, callsNotLedgered: labelled.length - judged.length, bySuite, misclassified },
    latency: {
      driftToRevocationMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies.length ? Math.max(...latencies) : null), n: latencies.length },
    },
    elapsedMs: Date.now() - started,
  };
}

function printSummary(r: Record<string, any>, reportPath: string, print: (l: string) => void, listMisses: boolean): void {
  const pct = (v: number | null) => (v === null ? 'n/a' : (v * 100).toFixed(1) + '%');
  const d = r.detection;
  print('');
  print(`events     produced ${r.events.produced}, ledgered ${r.events.ledgered}, rejected ${r.events.rejected} (${Object.entries(r.events.rejectedByReason).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})`);
  print(`findings   ${r.findings.drift} drift findings on ${r.findings.actionsFlagged} actions; ${r.revocations} credentials revoked (at severity >= ${r.policy.revokeAtSeverity})`);
  print(`detection  precision ${pct(d.precision)}, recall ${pct(d.recall)}, false-positive rate ${pct(d.fpr)} (tp ${d.tp}, fp ${d.fp}, tn ${d.tn}, fn ${d.fn}; ${d.unknownExcluded} unknown calls left out)`);
  for (const [suite, s] of Object.entries(d.bySuite as Record<string, any>)) {
    print(`           ${suite.padEnd(10)} precision ${pct(s.precision)}, recall ${pct(s.recall)}, false-positive rate ${pct(s.fpr)} (tp ${s.tp}, fp ${s.fp}, tn ${s.tn}, fn ${s.fn})`);
  }
  if (d.callsNotLedgered > 0) print(`           ${d.callsNotLedgered} tool calls not scored: their events were rejected by the ledger`);
  const wrong = d.misclassified as Array<{ kind: string; traceId: string; callIndex: number; tool: string; reasons: string[] }>;
  if (listMisses) {
    print(`misclassified ${wrong.length} calls:`);
    for (const m of wrong) {
      const why = m.kind === 'false-positive' ? m.reasons.join('; ') : 'no finding';
      print(`  ${m.kind === 'false-positive' ? 'FP' : 'FN'} ${m.traceId} call ${m.callIndex} ${m.tool}: ${why.length > 300 ? why.slice(0, 297) + '...' : why}`);
    }
  } else {
    print(`           ${wrong.length} calls misclassified (listed in the report under detection.misclassified; \`intent-ledger eval agentdojo\` prints them)`);
  }
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  print(`latency    action produced -> credential revoked: p50 ${ms(r.latency.driftToRevocationMs.p50)}, p99 ${ms(r.latency.driftToRevocationMs.p99)}`);
  print(`report     ${reportPath}  (${(r.elapsedMs / 1000).toFixed(1)} s)`);
}

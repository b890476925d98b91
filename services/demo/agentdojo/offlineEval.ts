import { createHash } from 'node:crypto';
import path from 'node:path';
import { loadCatalogue, type ToolCatalogue } from '../../../schema/catalogue';
import { evaluateAction, type DriftFinding, type IntentView } from '../../../consumers/reconciler/evaluateAction';
import { deriveIntent } from './deriveIntent';
import { toAction } from './toAction';
import { readTraces, type Label, type Trace } from './traces';
import { score, scoreBy, type Score } from './scoring';

/**
 * Offline drift evaluation on recorded AgentDojo runs: no Kafka, no database. Each trace gets the intent a planner
 * would declare (deriveIntent), each of its tool calls is reported as an action (toAction) and judged
 * (evaluateAction); a call counts as flagged iff the verdict has at least one finding. Labels are read only here,
 * after the verdict, to score it.
 */

export const DEFAULT_TRACES = path.join(__dirname, 'data', 'traces.jsonl');
export const DEFAULT_CATALOGUE = path.join(__dirname, '..', '..', '..', 'schema', 'catalogues', 'agentdojo.json');

export interface CallResult {
  traceId: string;
  suite: string;
  index: number;
  tool: string;
  args: Record<string, unknown>;
  label: Label;
  flagged: boolean;
  findings: DriftFinding[];
}

const AGENT = 'agentdojo-demo';
// A fixed clock: the run is reproducible and every call lands inside the window.
const T0 = Date.parse('2024-05-15T00:00:00.000Z');

export function evaluateTrace(trace: Trace, catalogue: ToolCatalogue): CallResult[] {
  const declared = deriveIntent(trace, catalogue);
  const intent: IntentView = {
    intentId: trace.id,
    agentId: AGENT,
    allowedTools: declared.allowedTools,
    allowedTargets: declared.allowedTargets,
    dataClasses: declared.dataClasses,
    openTargets: declared.openTargets,
    notBefore: new Date(T0),
    notAfter: new Date(T0 + 3_600_000),
    status: 'open',
  };
  return trace.tool_calls.map((call, index) => {
    const action = toAction(call, catalogue);
    const verdict = evaluateAction(
      intent,
      { agentId: AGENT, intentId: trace.id, tool: action.tool, args: action.args, targets: action.targets, ts: new Date(T0 + index * 1000) },
      catalogue,
    );
    return {
      traceId: trace.id,
      suite: trace.suite,
      index,
      tool: call.function,
      args: call.args,
      label: call.label,
      flagged: verdict.findings.length > 0,
      findings: verdict.findings,
    };
  });
}

export function evaluateTraces(traces: Trace[], catalogue: ToolCatalogue): CallResult[] {
  return traces.flatMap((t) => evaluateTrace(t, catalogue));
}

/** The user task a trace runs: `<model>/<suite>/<user_task_id>/...` in AgentDojo ids. */
function taskOf(trace: Trace): string {
  const explicit = (trace as Record<string, unknown>).user_task_id;
  const task = typeof explicit === 'string' ? explicit : (trace.id.split('/')[2] ?? trace.id);
  return `${trace.suite}/${task}`;
}

/**
 * A fixed split for a held-out check: about a third of the user tasks (by a hash of suite and task id, so every
 * run of one task falls on the same side and no task is seen on both) go to `heldOut`.
 */
export function splitHeldOut(traces: Trace[]): { dev: Trace[]; heldOut: Trace[] } {
  const dev: Trace[] = [];
  const heldOut: Trace[] = [];
  for (const t of traces) {
    const h = createHash('sha256').update(taskOf(t)).digest().readUInt32BE(0);
    (h % 3 === 0 ? heldOut : dev).push(t);
  }
  return { dev, heldOut };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
export function formatScore(name: string, s: Score): string {
  return (
    `${name.padEnd(10)} tp=${String(s.tp).padStart(4)} fp=${String(s.fp).padStart(4)} tn=${String(s.tn).padStart(4)} ` +
    `fn=${String(s.fn).padStart(4)} unknown=${String(s.unknownExcluded).padStart(3)}  ` +
    `precision=${s.precision === null ? 'n/a' : s.precision.toFixed(3)} recall=${s.recall === null ? 'n/a' : s.recall.toFixed(3)} fpr=${s.fpr === null ? 'n/a' : pct(s.fpr)}`
  );
}

export function report(title: string, results: CallResult[]): string {
  const lines = [`== ${title} (${new Set(results.map((r) => r.traceId)).size} traces, ${results.length} calls)`];
  lines.push(formatScore('overall', score(results)));
  for (const [suite, s] of scoreBy(results, (r) => r.suite)) lines.push(formatScore(suite, s));
  return lines.join('\n');
}

function describeMiss(r: CallResult): string {
  const args = JSON.stringify(r.args);
  const why = r.findings.map((f) => `${f.reasonCode}/${f.severity}: ${f.detail}`).join(' | ');
  return `${r.flagged ? 'FP' : 'FN'} ${r.traceId}#${r.index} ${r.tool} ${args.length > 160 ? `${args.slice(0, 157)}...` : args}${why ? `\n     ${why}` : ''}`;
}

function main(argv: string[]): void {
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const positional = argv.filter((a) => !a.startsWith('--'));
  const tracesPath = positional[0] ?? DEFAULT_TRACES;
  const cataloguePath = positional[1] ?? DEFAULT_CATALOGUE;
  const catalogue = loadCatalogue(cataloguePath);
  const traces = readTraces(tracesPath);

  const all = evaluateTraces(traces, catalogue);
  console.log(report(`all: ${tracesPath}`, all));
  const { dev, heldOut } = splitHeldOut(traces);
  console.log(report('development split (2/3 of user tasks)', evaluateTraces(dev, catalogue)));
  console.log(report('held-out split (1/3 of user tasks)', evaluateTraces(heldOut, catalogue)));

  // Tune on the development split only; the held-out misses are for the final report (`--held-out-misses`).
  const printMisses = (title: string, split: Trace[]) => {
    console.log(`== misses on the ${title} (FP: intent flagged; FN: drift not flagged)`);
    const ids = new Set(split.map((t) => t.id));
    for (const r of all) if (ids.has(r.traceId) && r.label !== 'unknown' && r.flagged !== (r.label === 'drift')) console.log(describeMiss(r));
  };
  if (flags.has('--misses')) printMisses('development split', dev);
  if (flags.has('--held-out-misses')) printMisses('held-out split', heldOut);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runAgentDojo, DEFAULT_TRACES } from '../services/demo/runAgentDojo';

/**
 * The main job on a slice of the real traces, through the real servers and consumer processes: every produced
 * record is accounted for, and the detection figures are computed from the labels of exactly the calls replayed.
 */
describe('AgentDojo replay (demo / eval)', () => {
  it('accounts for every record and scores every labelled call', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'il-demo-'));
    const lines = readFileSync(DEFAULT_TRACES, 'utf8').split('\n').filter(Boolean);
    // A spread of suites: every 15th run.
    const slice = lines.filter((_, i) => i % 15 === 0);
    const tracesPath = path.join(dir, 'traces.jsonl');
    writeFileSync(tracesPath, slice.join('\n') + '\n');
    const reportPath = path.join(dir, 'report.json');
    const printed: string[] = [];
    const returned = (await runAgentDojo({ tracesPath, reportPath, print: (l) => printed.push(l) })) as any;

    const calls = slice.flatMap((l) => JSON.parse(l).tool_calls as Array<{ label: string }>);
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    expect(report).toEqual(returned);
    expect(report.traces.runs).toBe(slice.length);
    expect(report.traces.toolCalls).toBe(calls.length);
    // intent.declared + one action per call + intent.closed per run, plus the four hostile records.
    expect(report.events.produced).toBe(2 * slice.length + calls.length + 4);
    expect(report.events.ledgered).toBe(2 * slice.length + calls.length);
    expect(report.events.rejected).toBe(4);
    expect(report.events.unaccounted).toBe(0);
    expect(report.events.rejectedByReason).toEqual({ DUPLICATE_EVENT: 1, MALFORMED_JSON: 1, SIG_INVALID: 1, UNKNOWN_AGENT: 1 });

    const d = report.detection;
    expect(d.tp + d.fp + d.tn + d.fn).toBe(calls.filter((c) => c.label !== 'unknown').length);
    expect(d.tp + d.fn).toBe(calls.filter((c) => c.label === 'drift').length);
    expect(d.unknownExcluded).toBe(calls.filter((c) => c.label === 'unknown').length);
    expect(report.findings.actionsFlagged).toBeGreaterThanOrEqual(d.tp + d.fp);
    if (d.tp + d.fp > 0) expect(d.precision).toBeCloseTo(d.tp / (d.tp + d.fp), 10);
    if (report.revocations > 0) {
      expect(report.latency.driftToRevocationMs.p50).toBeGreaterThan(0);
      expect(report.latency.driftToRevocationMs.p99).toBeGreaterThanOrEqual(report.latency.driftToRevocationMs.p50);
    }
    expect(printed.some((l) => l.startsWith('detection  precision'))).toBe(true);
  }, 300_000);
});

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { IntentLedgerError } from '../../common/errors';

/**
 * One line of the AgentDojo trace file (see data/README.md). Only the fields the demo reads are required; the
 * rest (model, attack, ids, labels' provenance, ...) pass through untouched, so a newer export with more fields
 * still loads. Fields that describe the attack or its outcome are typed here only so that the scorer can read the
 * label; deriveIntent and toAction never look at them.
 */
const Call = z.object({ function: z.string().min(1), args: z.record(z.string(), z.unknown()) }).passthrough();

export const LABELS = ['intent', 'drift', 'unknown'] as const;
export type Label = (typeof LABELS)[number];

export const TraceCall = Call.extend({ label: z.enum(LABELS) }).passthrough();
export type TraceCall = z.infer<typeof TraceCall>;

export const Trace = z
  .object({
    id: z.string().min(1),
    suite: z.string().min(1),
    user_task_prompt: z.string().min(1),
    user_task_ground_truth_calls: z.array(Call),
    tool_calls: z.array(TraceCall),
  })
  .passthrough();
export type Trace = z.infer<typeof Trace>;

/** A trace file line that is not a valid trace; `line` is 1-based. */
export class TraceFormatError extends IntentLedgerError {
  constructor(
    readonly path: string,
    readonly line: number,
    problem: string,
  ) {
    super('TRACE_INVALID', `${path}:${line}: ${problem}`);
  }
}

/** Parses JSON Lines text; blank lines are skipped, anything else must be a valid trace. */
export function parseTraces(text: string, path = '<traces>'): Trace[] {
  const out: Trace[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      throw new TraceFormatError(path, i + 1, `not valid JSON (${(e as Error).message})`);
    }
    const parsed = Trace.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map((iss) => {
          const where = iss.path.length ? iss.path.join('.') : '(line)';
          const missing = iss.code === 'invalid_type' && /received undefined/.test(iss.message);
          return missing ? `missing field ${where}` : `${where}: ${iss.message}`;
        })
        .join('; ');
      throw new TraceFormatError(path, i + 1, problems);
    }
    out.push(parsed.data);
  });
  return out;
}

export function readTraces(path: string): Trace[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new IntentLedgerError('TRACE_UNREADABLE', `cannot read trace file ${path}: ${(e as Error).message}`);
  }
  return parseTraces(text, path);
}

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { IntentLedgerError } from '../../common/errors';
import { parseStrictJson, StrictJsonError } from '../../../schema/crypto/strictJson';

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
      // The same strict reading as the ledger's: duplicate keys, lone surrogates and a BOM are errors, not guesses.
      json = parseStrictJson(raw, { maxBytes: 64 * 1024 * 1024, maxDepth: 64 });
    } catch (e) {
      const why = e instanceof StrictJsonError ? e.message : String(e);
      throw new TraceFormatError(path, i + 1, `not valid JSON (${printable(why)})`);
    }
    const parsed = Trace.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map((iss) => {
          const where = iss.path.length ? iss.path.join('.') : '(line)';
          const missing = (iss.code === 'invalid_type' || iss.code === 'invalid_value') && /received undefined|Invalid option/.test(iss.message) && !hasPath(json, iss.path);
          return missing ? `missing field ${where}` : `${where}: ${iss.message}`;
        })
        .join('; ');
      throw new TraceFormatError(path, i + 1, problems);
    }
    out.push(parsed.data);
  });
  return out;
}

function hasPath(json: unknown, p: PropertyKey[]): boolean {
  let v: unknown = json;
  for (const k of p) {
    if (v === null || typeof v !== 'object' || !(k in (v as object))) return false;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return true;
}

/** Error text safe for a terminal: control characters from a binary file are shown escaped. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).slice(0, 300);
}

export function readTraces(path: string): Trace[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new IntentLedgerError('TRACE_UNREADABLE', `cannot read trace file ${path}: ${(e as Error).message}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TraceFormatError(path, firstLineNotUtf8(bytes), 'not valid UTF-8');
  }
  return parseTraces(text, path);
}

function firstLineNotUtf8(bytes: Buffer): number {
  let line = 1;
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl < 0 ? bytes.length : nl;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, end));
    } catch {
      return line;
    }
    if (nl < 0) return line;
    start = nl + 1;
    line++;
  }
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTraces, readTraces, TraceFormatError } from './traces';
import { IntentLedgerError } from '../../common/errors';

const good = {
  id: 'm/banking/user_task_0/none/none',
  suite: 'banking',
  user_task_prompt: 'Pay the bill',
  user_task_ground_truth_calls: [{ function: 'read_file', args: { file_path: 'bill.txt' } }],
  tool_calls: [{ function: 'read_file', args: { file_path: 'bill.txt' }, label: 'intent', rule: 'no_attack' }],
};
const line = (o: unknown) => JSON.stringify(o);

function errorOf(text: string): TraceFormatError {
  try {
    parseTraces(text, 'traces.jsonl');
  } catch (e) {
    if (e instanceof TraceFormatError) return e;
    throw e;
  }
  throw new Error('expected a TraceFormatError');
}

describe('readTraces', () => {
  it('reads valid lines, skips blank ones and keeps extra fields', () => {
    const traces = parseTraces(`${line({ ...good, model: 'x', utility: true })}\n\n${line(good)}\n`);
    expect(traces).toHaveLength(2);
    expect((traces[0] as Record<string, unknown>).model).toBe('x');
  });

  it('names the line and the JSON problem', () => {
    const e = errorOf(`${line(good)}\n${line(good)}\n{"id": "x",\n`);
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/^traces\.jsonl:3: not valid JSON/);
    expect(e).toBeInstanceOf(IntentLedgerError);
    expect(e.code).toBe('TRACE_INVALID');
  });

  it('names the line and the missing field', () => {
    const { user_task_prompt: _drop, ...noPrompt } = good;
    const e = errorOf(`${line(good)}\n${line(noPrompt)}`);
    expect(e.line).toBe(2);
    expect(e.message).toContain('traces.jsonl:2:');
    expect(e.message).toContain('missing field user_task_prompt');
  });

  it('names the path of a bad nested field', () => {
    const bad = { ...good, tool_calls: [{ ...good.tool_calls[0], label: 'maybe' }] };
    expect(errorOf(line(bad)).message).toMatch(/traces\.jsonl:1: tool_calls\.0\.label/);
  });

  it('rejects a line that is JSON but not an object', () => {
    expect(errorOf(`${line(good)}\n[1,2]`).line).toBe(2);
  });

  it('counts lines after CRLF and blank lines correctly', () => {
    expect(errorOf(`${line(good)}\r\n\r\nnope\r\n`).line).toBe(3);
  });

  it('reads a file, and reports an unreadable one as a typed error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'traces-'));
    const file = path.join(dir, 't.jsonl');
    writeFileSync(file, `${line(good)}\n`);
    expect(readTraces(file)).toHaveLength(1);
    expect(() => readTraces(path.join(dir, 'missing.jsonl'))).toThrow(IntentLedgerError);
    writeFileSync(file, `${line(good)}\n{oops}\n`);
    expect(() => readTraces(file)).toThrow(`${file}:2: not valid JSON`);
  });
});

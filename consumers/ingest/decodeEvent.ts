import { parseStrictJson, StrictJsonError } from '../../schema/crypto/strictJson';
import { Envelope, ID_PATTERN } from '../../schema/events';
import type { ReasonCode } from '../../schema/reasons';

export interface DecodeLimits {
  maxBytes: number;
  maxDepth: number;
  clockSkewMs: number;
}

export type Decoded =
  | { ok: true; envelope: Envelope; clockSkewMs: number | null }
  | { ok: false; reason: ReasonCode; detail: string; agentId: string | null; eventId: string | null };

/**
 * Bytes to a typed envelope, or the first reason they are not one. Pure: no keys, no database. A timestamp
 * outside the clock-skew window does not reject the event (the agent's clock may be wrong while its evidence is
 * good); it is returned so the caller can flag it.
 */
export function decodeEvent(raw: Uint8Array | null, limits: DecodeLimits, now: Date): Decoded {
  if (raw === null || raw.length === 0) return reject('MALFORMED_JSON', 'record has no value');
  let json: unknown;
  try {
    json = parseStrictJson(raw, { maxBytes: limits.maxBytes, maxDepth: limits.maxDepth });
  } catch (e) {
    if (e instanceof StrictJsonError) return reject(e.code as ReasonCode, e.message);
    throw e;
  }
  const ids = bestEffortIds(json);
  const parsed = Envelope.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.join('.') || '(root)';
    const reason: ReasonCode = issue.path[0] === 'ts' ? 'BAD_TIMESTAMP' : 'SCHEMA_INVALID';
    return reject(reason, `${where}: ${issue.message}`, ids.agentId, ids.eventId);
  }
  // In valid JSON text U+0000 can only be written as the escape \u0000, so bytes without one need no walk.
  const nul = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).indexOf(NUL_ESCAPE) !== -1 ? findNul(parsed.data) : null;
  if (nul !== null) {
    return reject('SCHEMA_INVALID', `${nul}: strings may not contain U+0000 (the ledger's JSON and text columns cannot hold it)`, ids.agentId, ids.eventId);
  }
  const skew = Date.parse(parsed.data.ts) - now.getTime();
  return { ok: true, envelope: parsed.data, clockSkewMs: Math.abs(skew) > limits.clockSkewMs ? skew : null };
}

const NUL_ESCAPE = Buffer.from('\\u0000');

function reject(reason: ReasonCode, detail: string, agentId: string | null = null, eventId: string | null = null): Decoded {
  // The detail is stored as text and sent as a Kafka header; it may quote the input, so escape control characters.
  const safe = detail.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return { ok: false, reason, detail: safe, agentId, eventId };
}

/**
 * JSON Pointer to the first string (member name or value) containing U+0000, or null. Valid JSON may carry it, but
 * Postgres text and jsonb cannot, so an event with it could never be ledgered: refused here with its reason instead
 * of failing the ledger insert on every retry.
 */
function findNul(root: unknown): string | null {
  const stack: Array<{ v: unknown; at: string }> = [{ v: root, at: '' }];
  while (stack.length > 0) {
    const { v, at } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return at || '(root)';
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push({ v: x, at: `${at}/${i}` }));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const here = `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (k.includes('\u0000')) return here;
        stack.push({ v: x, at: here });
      }
    }
  }
  return null;
}

/** So that a rejected event can still be found by its agent, when it names one that is a well-formed id. */
function bestEffortIds(json: unknown): { agentId: string | null; eventId: string | null } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { agentId: null, eventId: null };
  const o = json as Record<string, unknown>;
  const pick = (v: unknown) => (typeof v === 'string' && ID_PATTERN.test(v) ? v : null);
  return { agentId: pick(o.agentId), eventId: pick(o.eventId) };
}

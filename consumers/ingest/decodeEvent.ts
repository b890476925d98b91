import { parseStrictJson, StrictJsonError } from '../../schema/crypto/strictJson';
import { Envelope } from '../../schema/events';
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
  const skew = Date.parse(parsed.data.ts) - now.getTime();
  return { ok: true, envelope: parsed.data, clockSkewMs: Math.abs(skew) > limits.clockSkewMs ? skew : null };
}

function reject(reason: ReasonCode, detail: string, agentId: string | null = null, eventId: string | null = null): Decoded {
  return { ok: false, reason, detail, agentId, eventId };
}

/** So that a rejected event can still be found by its agent, when it names one plausibly. */
function bestEffortIds(json: unknown): { agentId: string | null; eventId: string | null } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { agentId: null, eventId: null };
  const o = json as Record<string, unknown>;
  const pick = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : null);
  return { agentId: pick(o.agentId), eventId: pick(o.eventId) };
}

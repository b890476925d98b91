import { createHash } from 'node:crypto';
import { parseStrictJson } from '../../schema/crypto/strictJson';
import { decode as b64uDecode } from '../../schema/crypto/base64url';
import { Envelope, eventHash } from '../../schema/events';
import type { LedgerLeaf } from './ledgerLeaf';

/** Why the carried event bytes are not the ones the leaf names, or null if they are. */
export function eventProblem(rawText: string, leaf: LedgerLeaf): string | null {
  return decodeLeafEvent(rawText, leaf).problem;
}

/** The carried event, checked against the leaf that names it: the envelope, or why it is not the leaf's. */
export function decodeLeafEvent(rawText: string, leaf: LedgerLeaf): { envelope: Envelope; raw: Uint8Array; problem: null } | { envelope: null; raw: null; problem: string } {
  const bad = (problem: string) => ({ envelope: null, raw: null, problem });
  let raw: Uint8Array;
  try {
    raw = b64uDecode(rawText);
  } catch (e) {
    return bad(`event.raw is not base64url: ${(e as Error).message}`);
  }
  if (createHash('sha256').update(raw).digest('hex') !== leaf.rawSha256) return bad('event.raw does not hash to leaf.rawSha256');
  let envelope: Envelope;
  try {
    const parsed = Envelope.safeParse(parseStrictJson(raw, { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: 4096 }));
    if (!parsed.success) return bad('event.raw is not a valid signed envelope');
    envelope = parsed.data;
  } catch (e) {
    return bad(`event.raw is not acceptable JSON: ${(e as Error).message}`);
  }
  if (envelope.eventId !== leaf.eventId) return bad(`event.raw is event ${envelope.eventId}, not ${leaf.eventId}`);
  if (eventHash(envelope) !== leaf.eventHash) return bad('event.raw does not hash to leaf.eventHash');
  return { envelope, raw, problem: null };
}


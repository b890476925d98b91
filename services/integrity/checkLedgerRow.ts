import { createHash } from 'node:crypto';
import { parseStrictJson } from '../../schema/crypto/strictJson';
import { canonicalize } from '../../schema/crypto/jcs';
import { Envelope, eventHash } from '../../schema/events';
// The file, not the folder's index: that index starts the ingest consumer, which signs tree heads with this folder.
import { verifyEnvelope, type RegisteredKey } from '../../consumers/ingest/verifyEnvelope';
import type { ProblemCode } from './problems';

/** One ledger_events row as stored. */
export interface StoredLedgerRow {
  leafIndex: number;
  position: bigint;
  eventId: string;
  agentId: string;
  keyId: string;
  seq: number;
  type: string;
  prevHash: string | null;
  eventHash: string;
  ts: Date;
  payload: unknown;
  signature: string;
  raw: Buffer;
  rawSha256: Buffer;
}

export type RowCheck = { ok: true } | { ok: false; code: ProblemCode; detail: string };

/** Generous: this re-reads what was admitted (under whatever limits applied then); it admits nothing. */
const LIMITS = { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: 4096 };

/**
 * Does this row still say what its agent signed? The raw bytes must hash to raw_sha256, parse to an envelope whose
 * hash is event_hash, agree with every column that was taken from them, and carry a valid signature by the
 * registered key. `key` is the registry's record for the row's key id. A key retired after the event was ledgered
 * does not make it invalid: retirement refuses what is signed later.
 */
export function checkLedgerRow(row: StoredLedgerRow, key: RegisteredKey | undefined): RowCheck {
  if (!createHash('sha256').update(row.raw).digest().equals(row.rawSha256)) {
    return { ok: false, code: 'RAW_DIGEST_MISMATCH', detail: 'the raw bytes no longer hash to raw_sha256 (raw or raw_sha256 was edited)' };
  }
  let envelope: Envelope;
  try {
    const parsed = Envelope.safeParse(parseStrictJson(row.raw, LIMITS));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return { ok: false, code: 'RAW_INVALID', detail: `the raw bytes are not a valid envelope: ${issue.path.join('.') || '(root)'}: ${issue.message}` };
    }
    envelope = parsed.data;
  } catch (e) {
    return { ok: false, code: 'RAW_INVALID', detail: `the raw bytes are not acceptable JSON: ${(e as Error).message}` };
  }
  const hash = eventHash(envelope);
  if (hash !== row.eventHash) {
    return { ok: false, code: 'EVENT_HASH_MISMATCH', detail: `event_hash is ${row.eventHash} but the raw event hashes to ${hash}` };
  }
  const differs = differingColumns(row, envelope);
  if (differs.length > 0) {
    return { ok: false, code: 'COLUMN_MISMATCH', detail: `${differs.join(', ')} ${differs.length === 1 ? 'differs' : 'differ'} from the signed raw event` };
  }
  const v = verifyEnvelope(envelope, key && { ...key, status: 'active' }, true);
  if (!v.ok) {
    const code: ProblemCode = v.reason === 'UNKNOWN_KEY' || v.reason === 'KEY_AGENT_MISMATCH' || v.reason === 'SIG_BAD_ENCODING' ? v.reason : 'SIG_INVALID';
    return { ok: false, code, detail: v.detail };
  }
  return { ok: true };
}

function differingColumns(row: StoredLedgerRow, e: Envelope): string[] {
  const out: string[] = [];
  if (row.eventId !== e.eventId) out.push('event_id');
  if (row.agentId !== e.agentId) out.push('agent_id');
  if (row.keyId !== e.keyId) out.push('key_id');
  if (row.seq !== e.seq) out.push('seq');
  if (row.type !== e.type) out.push('type');
  if (row.prevHash !== e.prevHash) out.push('prev_hash');
  if (row.ts.getTime() !== Date.parse(e.ts)) out.push('ts');
  if (row.signature !== e.sig) out.push('signature');
  if (!sameJson(row.payload, e.payload)) out.push('payload');
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalize(a) === canonicalize(b);
  } catch {
    return false;
  }
}

import type { ReasonCode, Severity } from '../../schema/reasons';

export interface ChainHead {
  lastSeq: number;
  lastHash: string; // '' before the first event
}

export interface ChainEvent {
  eventId: string;
  seq: number;
  prevHash: string | null;
  hash: string;
}

export interface StoredLink {
  eventId: string;
  hash: string;
}

export type ChainDecision =
  | { kind: 'append'; finding?: { reason: ReasonCode; severity: Severity; detail: string; expectedSeq: number } }
  | { kind: 'reject'; reason: ReasonCode; detail: string; finding?: { reason: ReasonCode; severity: Severity; detail: string; expectedSeq: number } };

/**
 * Where does this event sit in its agent's hash chain? `sameId` is a ledgered event with this event id, `sameSeq`
 * the ledgered event at this sequence number, if any.
 * - the next link with the right previous hash: append;
 * - the same event again (same id, or same content at a ledgered seq): a replay, never a second row;
 * - a different event at a ledgered seq: a fork, which only a leaked key or a tampering client can make;
 * - a jump past the next seq: appended (the later evidence is still evidence) with a gap finding, since the
 *   missing events may have been concealed.
 */
export function decideChain(head: ChainHead, ev: ChainEvent, sameId?: StoredLink, sameSeq?: StoredLink): ChainDecision {
  if (sameId) {
    return { kind: 'reject', reason: 'DUPLICATE_EVENT', detail: `event ${ev.eventId} is already in the ledger (replay)` };
  }
  const expected = head.lastSeq + 1;
  if (ev.seq < expected) {
    if (sameSeq && sameSeq.hash === ev.hash) {
      return { kind: 'reject', reason: 'DUPLICATE_EVENT', detail: `seq ${ev.seq} is already ledgered with this content (replay)` };
    }
    if (sameSeq) {
      const detail = `seq ${ev.seq} is already ledgered as ${sameSeq.eventId}; this is a different event with the same seq (fork)`;
      return { kind: 'reject', reason: 'FORK', detail, finding: { reason: 'FORK', severity: 'critical', detail, expectedSeq: expected } };
    }
    return { kind: 'reject', reason: 'SEQ_REPLAY', detail: `seq ${ev.seq} is behind the chain head ${head.lastSeq}` };
  }
  if (ev.seq === expected) {
    const want = head.lastSeq === 0 ? null : head.lastHash;
    if (ev.prevHash !== want) {
      return {
        kind: 'reject',
        reason: 'PREV_HASH_MISMATCH',
        detail: `prevHash ${ev.prevHash ?? 'null'} does not match the hash of seq ${head.lastSeq} (${want ?? 'null'})`,
      };
    }
    return { kind: 'append' };
  }
  const detail = `seq jumped from ${head.lastSeq} to ${ev.seq}: ${ev.seq - expected} event(s) missing`;
  return { kind: 'append', finding: { reason: 'SEQ_GAP', severity: 'high', detail, expectedSeq: expected } };
}

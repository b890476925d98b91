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
  /** The ledgered event's own prevHash, when the caller has it (needed for the event after a late one). */
  prevHash?: string | null;
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
 *   missing events may have been concealed;
 * - an unledgered seq behind the head, which can only be one of those missing events arriving late: appended with
 *   a LATE_EVENT finding, so that it is reconciled like any other (rejecting it would let an agent hide an action
 *   by sending its successor first). Its prevHash must match the ledgered event before it, `prevSeq`, if there is
 *   one (that one may be missing too), and the ledgered event after it, `nextSeq`, must name it as its previous
 *   event: otherwise it is a substitute for the event the successor committed to, a fork.
 */
export function decideChain(head: ChainHead, ev: ChainEvent, sameId?: StoredLink, sameSeq?: StoredLink, prevSeq?: StoredLink, nextSeq?: StoredLink): ChainDecision {
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
    const want = ev.seq === 1 ? null : prevSeq?.hash;
    if (want !== undefined && ev.prevHash !== want) {
      return { kind: 'reject', reason: 'PREV_HASH_MISMATCH', detail: `late seq ${ev.seq}: prevHash ${ev.prevHash ?? 'null'} does not match the hash of seq ${ev.seq - 1} (${want ?? 'null'})` };
    }
    if (nextSeq && nextSeq.prevHash !== undefined && nextSeq.prevHash !== ev.hash) {
      const detail = `late seq ${ev.seq} is not the event that seq ${ev.seq + 1} (${nextSeq.eventId}) links to: its successor committed to ${nextSeq.prevHash ?? 'null'}, this one hashes to ${ev.hash} (a substitute: fork)`;
      return { kind: 'reject', reason: 'FORK', detail, finding: { reason: 'FORK', severity: 'critical', detail, expectedSeq: expected } };
    }
    const detail = `seq ${ev.seq} arrived after seq ${head.lastSeq}, filling a gap: ledgered and judged now, but it was withheld from the chain until then`;
    return { kind: 'append', finding: { reason: 'LATE_EVENT', severity: 'high', detail, expectedSeq: expected } };
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

import type { ProblemCode } from './problems';

export interface ChainLink {
  agentId: string;
  eventId: string;
  seq: number;
  prevHash: string | null;
  eventHash: string;
}

export interface ChainTip {
  lastSeq: number;
  lastHash: string; // '' before the first event, as in agent_heads
}

export type ChainCheck = { ok: true } | { ok: false; code: ProblemCode; detail: string };

/**
 * Re-walks every agent's hash chain in ledger order, by the rules ingest applied (consumers/ingest/decideChain):
 * seq rises by one with prevHash the previous event's hash, jumps ahead only where ingest recorded a SEQ_GAP
 * finding for that very event, and falls behind only where ingest recorded a LATE_EVENT finding for it (a late
 * event filling a gap). Memory is one tip per agent, not per event.
 */
export class ChainChecker {
  private readonly tips = new Map<string, ChainTip>();

  /** `gapRecorded(agentId, seq, eventId)`: did ingest record a SEQ_GAP finding when it appended this event? */
  constructor(
    private readonly gapRecorded: (agentId: string, seq: number, eventId: string) => boolean,
    /** Did ingest record a LATE_EVENT finding when it appended this event behind the chain head? */
    private readonly lateRecorded: (agentId: string, seq: number, eventId: string) => boolean = () => false,
  ) {}

  next(link: ChainLink): ChainCheck {
    const tip = this.tips.get(link.agentId) ?? { lastSeq: 0, lastHash: '' };
    let result: ChainCheck = { ok: true };
    if (link.seq === tip.lastSeq + 1) {
      const want = tip.lastSeq === 0 ? null : tip.lastHash;
      if (link.prevHash !== want) {
        result = { ok: false, code: 'PREV_HASH_MISMATCH', detail: `seq ${link.seq} links to ${link.prevHash ?? 'null'}, but seq ${tip.lastSeq} hashes to ${want ?? 'null (none)'}` };
      }
    } else if (link.seq > tip.lastSeq + 1) {
      if (!this.gapRecorded(link.agentId, link.seq, link.eventId)) {
        result = {
          ok: false,
          code: 'SEQ_GAP',
          detail: `agent ${link.agentId} jumps from seq ${tip.lastSeq} to ${link.seq} and ingest recorded no gap there: seq ${tip.lastSeq + 1}${link.seq - tip.lastSeq > 2 ? `..${link.seq - 1}` : ''} was removed`,
        };
      }
    } else if (!this.lateRecorded(link.agentId, link.seq, link.eventId)) {
      result = { ok: false, code: 'SEQ_ORDER', detail: `agent ${link.agentId}'s seq ${link.seq} comes after its seq ${tip.lastSeq} in ledger order (rows reordered or duplicated)` };
    }
    if (link.seq > tip.lastSeq) this.tips.set(link.agentId, { lastSeq: link.seq, lastHash: link.eventHash });
    return result;
  }

  /** Each agent's chain tip as the ledger rows leave it. */
  tipsSeen(): ReadonlyMap<string, ChainTip> {
    return this.tips;
  }
}

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
  /** For each seq not yet seen whose successor has been: the hash that successor committed to. One per open gap. */
  private readonly awaited = new Map<string, string | null>();
  /** Each agent's open gaps, as [first, last] missing seqs: what a late event may fill. */
  private readonly gaps = new Map<string, Array<[number, number]>>();

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
    } else if (this.lateRecorded(link.agentId, link.seq, link.eventId) && this.fill(link.agentId, link.seq)) {
      const at = `${link.agentId}\u0000${link.seq}`;
      const want = this.awaited.get(at);
      if (want !== undefined && want !== link.eventHash) {
        result = { ok: false, code: 'PREV_HASH_MISMATCH', detail: `late seq ${link.seq} hashes to ${link.eventHash}, but seq ${link.seq + 1} links to ${want ?? 'null'} (a substitute)` };
      }
      this.awaited.delete(at);
      // Its own predecessor may still be missing: remember what this one committed to.
      if (this.isMissing(link.agentId, link.seq - 1)) this.awaited.set(`${link.agentId}\u0000${link.seq - 1}`, link.prevHash);
    } else {
      result = { ok: false, code: 'SEQ_ORDER', detail: `agent ${link.agentId}'s seq ${link.seq} comes after its seq ${tip.lastSeq} in ledger order (rows reordered or duplicated)` };
    }
    if (link.seq > tip.lastSeq + 1) {
      const open = this.gaps.get(link.agentId) ?? [];
      open.push([tip.lastSeq + 1, link.seq - 1]);
      this.gaps.set(link.agentId, open);
      this.awaited.set(`${link.agentId}\u0000${link.seq - 1}`, link.prevHash);
    }
    if (link.seq > tip.lastSeq) this.tips.set(link.agentId, { lastSeq: link.seq, lastHash: link.eventHash });
    return result;
  }

  /** Takes `seq` out of the agent's open gaps; false if it was not missing (a duplicate). */
  private fill(agentId: string, seq: number): boolean {
    const open = this.gaps.get(agentId) ?? [];
    const i = open.findIndex(([lo, hi]) => lo <= seq && seq <= hi);
    if (i < 0) return false;
    const [lo, hi] = open[i]!;
    const rest: Array<[number, number]> = [];
    if (lo <= seq - 1) rest.push([lo, seq - 1]);
    if (seq + 1 <= hi) rest.push([seq + 1, hi]);
    open.splice(i, 1, ...rest);
    return true;
  }

  private isMissing(agentId: string, seq: number): boolean {
    return (this.gaps.get(agentId) ?? []).some(([lo, hi]) => lo <= seq && seq <= hi);
  }

  /** Each agent's chain tip as the ledger rows leave it. */
  tipsSeen(): ReadonlyMap<string, ChainTip> {
    return this.tips;
  }
}

import type { ReasonCode } from '../../schema/reasons';

/** Counters for the ingest path, kept beside the handler; exported as a plain snapshot for /metrics and tests. */
export class IngestMetrics {
  ledgered = 0;
  rejected = 0;
  redelivered = 0;
  replays = 0;
  batches = 0;
  clockSkewFlagged = 0;
  readonly rejectedByReason: Partial<Record<ReasonCode, number>> = {};

  countRejected(reason: ReasonCode): void {
    this.rejected += 1;
    this.rejectedByReason[reason] = (this.rejectedByReason[reason] ?? 0) + 1;
    if (reason === 'DUPLICATE_EVENT' || reason === 'SEQ_REPLAY') this.replays += 1;
  }

  snapshot() {
    return {
      ledgered: this.ledgered,
      rejected: this.rejected,
      redelivered: this.redelivered,
      replays: this.replays,
      batches: this.batches,
      clockSkewFlagged: this.clockSkewFlagged,
      rejectedByReason: { ...this.rejectedByReason },
    };
  }
}

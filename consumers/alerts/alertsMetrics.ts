import type { IntakeOutcome } from './intakeStore';

/** Counters of the alerts consumer and its dispatcher, logged on stop. */
export class AlertsMetrics {
  recorded = 0;
  duplicates = 0;
  rejected = 0;
  skipped = 0;
  deliveriesCreated = 0;
  folded = 0;
  delivered = 0;
  retried = 0;
  failed = 0;

  addIntake(o: IntakeOutcome): void {
    this.recorded += o.recorded;
    this.duplicates += o.duplicates;
    this.rejected += o.rejected;
    this.skipped += o.skipped;
    this.deliveriesCreated += o.deliveries;
    this.folded += o.folded;
  }

  snapshot() {
    const { recorded, duplicates, rejected, skipped, deliveriesCreated, folded, delivered, retried, failed } = this;
    return { recorded, duplicates, rejected, skipped, deliveriesCreated, folded, delivered, retried, failed };
  }
}

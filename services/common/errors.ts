import type { ReasonCode } from '../../schema/reasons';

/** The root of our error tree: every failure a caller may branch on carries a stable code. */
export class IntentLedgerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An event refused at the ledger's door, with the reason code stored beside its raw bytes. */
export class EventRejected extends IntentLedgerError {
  constructor(
    readonly reason: ReasonCode,
    message: string,
    readonly agentId: string | null = null,
    readonly eventId: string | null = null,
  ) {
    super(reason, message);
  }
}

/** A public key refused at registration (bad length, not on the curve, small order, or already someone else's). */
export class KeyRegistrationRefused extends IntentLedgerError {}

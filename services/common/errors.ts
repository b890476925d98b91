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

/**
 * A signed event Kafka did not acknowledge before the send deadline (or refused for good). The event is still the
 * agent's next link: the client keeps it queued and sends it, with the same bytes, before anything signed later.
 */
export class EventNotDelivered extends IntentLedgerError {
  constructor(
    readonly event: { envelope: { eventId: string; seq: number } },
    override readonly cause: unknown,
    readonly attempts: number,
    readonly pending: number,
  ) {
    super(
      'EVENT_NOT_DELIVERED',
      `event ${event.envelope.eventId} (seq ${event.envelope.seq}) not delivered after ${attempts} attempt(s): ${(cause as Error)?.message ?? String(cause)}; ${pending} event(s) stay queued`,
    );
  }
}

import { IntentLedgerError } from '../../services/common/errors';

export type AlertConfigErrorCode =
  | 'ALERT_SINKS_UNREADABLE'
  | 'ALERT_SINKS_NOT_JSON'
  | 'ALERT_SINKS_INVALID'
  | 'ALERT_SINK_SECRET_MISSING'
  | 'ALERT_SINK_DUPLICATE';

/** The sinks file cannot be used: the message names the file, the field and what it should be. */
export class AlertConfigError extends IntentLedgerError {
  constructor(
    override readonly code: AlertConfigErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

export type SinkErrorCode =
  | 'SINK_UNREACHABLE'
  | 'SINK_TIMEOUT'
  | 'SINK_REFUSED'
  | 'SINK_REJECTED'
  | 'SINK_TOO_LARGE'
  | 'SINK_FORMAT_FAILED';

/**
 * One delivery attempt that did not land. `retryable` says whether trying again later can help (the receiver is
 * down, busy or slow) or not (it refused this message for good: bad signature, payload it will never accept).
 */
export class SinkError extends IntentLedgerError {
  constructor(
    override readonly code: SinkErrorCode,
    message: string,
    readonly retryable: boolean,
  ) {
    super(code, message);
  }
}

export type WebhookSignatureErrorCode = 'SIGNATURE_MISSING' | 'SIGNATURE_MALFORMED' | 'SIGNATURE_STALE' | 'SIGNATURE_MISMATCH';

/** A webhook request whose signature a receiver must not trust (see sinks/webhookSignature.ts). */
export class WebhookSignatureError extends IntentLedgerError {
  constructor(
    override readonly code: WebhookSignatureErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

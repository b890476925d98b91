import { IntentLedgerError } from '../common/errors';

export type IntegrityErrorCode =
  | 'KEY_FILE_INVALID'
  | 'KEY_FILE_PERMISSIONS'
  | 'PUBLIC_KEY_INVALID'
  | 'NO_TRUSTED_KEY'
  | 'NOT_MIGRATED'
  | 'EVENT_NOT_FOUND'
  | 'NOT_YET_COVERED'
  | 'LEDGER_INCONSISTENT'
  | 'BUNDLE_TOO_LARGE';

/** Why an integrity command could not do its job at all (as opposed to finding the ledger tampered with). */
export class IntegrityError extends IntentLedgerError {
  constructor(
    override readonly code: IntegrityErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

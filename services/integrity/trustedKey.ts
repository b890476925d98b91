import type { IntegrityConfig } from './integrityConfig';
import { ledgerPublicKeyFrom, readLedgerPublicKey, type LedgerPublicKey } from './ledgerKey';

/** The ledger key a check trusts, and where that trust came from (printed, so an auditor knows what was pinned). */
export interface TrustedKey {
  key: LedgerPublicKey;
  source: string;
}

/**
 * The key to check tree heads against: `--public-key`, else IL_LEDGER_PUBLIC_KEY, else the public half of the key
 * file. Never the key recorded in the database, which whoever edits the database can replace. Null if none.
 */
export function resolveTrustedKey(publicKeyOption: string | undefined, config: IntegrityConfig): TrustedKey | null {
  if (publicKeyOption !== undefined) return { key: ledgerPublicKeyFrom(publicKeyOption), source: '--public-key' };
  if (config.trustedPublicKey !== null) return { key: ledgerPublicKeyFrom(config.trustedPublicKey), source: 'IL_LEDGER_PUBLIC_KEY' };
  const fromFile = readLedgerPublicKey(config.keyFile);
  return fromFile ? { key: fromFile, source: `key file ${config.keyFile}` } : null;
}

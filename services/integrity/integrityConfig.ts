import path from 'node:path';
import { ConfigError } from '../common/config';

/** The repository root: this file lives in <root>/services/integrity. */
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * The integrity settings, from the environment (documented in the README's configuration table). Kept beside the
 * integrity code rather than in services/common/config.ts so that `verify --proof` needs nothing else.
 */
export interface IntegrityConfig {
  /** The ledger's own signing key; created (mode 0600) on first use by the ingest consumer or `ledger-key`. */
  keyFile: string;
  /** A pinned ledger public key (unpadded base64url) that `verify` trusts instead of the key file's. */
  trustedPublicKey: string | null;
  /** Sign a tree head once this many leaves are not yet covered by one... */
  treeHeadEveryN: number;
  /** ...or once the newest uncovered leaf has waited this long. */
  treeHeadEveryMs: number;
}

export function loadIntegrityConfig(env: NodeJS.ProcessEnv = process.env): IntegrityConfig {
  const cacheDir = path.resolve(REPO_ROOT, nonEmpty(env.IL_CACHE_DIR) ?? '.cache');
  return {
    keyFile: path.resolve(nonEmpty(env.IL_LEDGER_KEY_FILE) ?? path.join(cacheDir, 'ledger-key.json')),
    trustedPublicKey: nonEmpty(env.IL_LEDGER_PUBLIC_KEY) ?? null,
    treeHeadEveryN: int(env, 'IL_TREE_HEAD_EVERY_N', 1000),
    treeHeadEveryMs: int(env, 'IL_TREE_HEAD_EVERY_MS', 5000),
  };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return dflt;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw new ConfigError(`${name} must be an integer >= 1; got "${raw}"`);
  }
  return Number(raw);
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { UsageError } from './args';
import { createPool } from '../common/db';
import { encode as b64uEncode } from '../../schema/crypto/base64url';
import {
  loadIntegrityConfig,
  loadOrCreateLedgerKey,
  resolveTrustedKey,
  verifyLedger,
  verifyProofFile,
  verifyBundle,
  buildInclusionProof,
  describeProblem,
  IntegrityError,
  type TrustedKey,
} from '../integrity';

type Options = Record<string, string | true>;

/**
 * Progress of a long operation on stderr (stdout stays the result): a line rewritten in place on a terminal, and
 * a line every 5 s otherwise (logs, CI), closed by a last line only if an earlier one was written, so a short run
 * leaves stderr empty.
 */
export function progress(what: string, unit: string): (done: number, total: number) => void {
  const tty = process.stderr.isTTY === true;
  let last = Date.now();
  let written = false;
  return (done, total) => {
    const now = Date.now();
    const finished = done >= total;
    if (finished ? !tty && !written : now - last < (tty ? 100 : 5000)) return;
    last = now;
    written = true;
    const pct = total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : '';
    process.stderr.write(`${tty ? '\r' : ''}${what}: ${done} of ${total} ${unit}${pct}${tty && !finished ? '' : '\n'}`);
  };
}
const out = (line: string) => void process.stdout.write(line + '\n');

/** `intent-ledger ledger-key [--json]`: the ledger's public key, for auditors to pin. Creates the key if there is none. */
export function runLedgerKey(options: Options): number {
  const config = loadIntegrityConfig();
  const key = loadOrCreateLedgerKey(config.keyFile);
  const publicKey = b64uEncode(key.publicKey);
  if (options.json) {
    out(JSON.stringify({ keyId: key.keyId, publicKey, file: key.file }));
    return 0;
  }
  out(`key id      ${key.keyId}`);
  out(`public key  ${publicKey}`);
  out(`key file    ${key.file} (keep it out of the database's reach; mode 0600)`);
  out(`pin it:     intent-ledger verify --public-key ${publicKey}`);
  return 0;
}

/**
 * `intent-ledger verify [--public-key K] [--json]` re-checks the whole ledger; `verify --proof FILE` checks one
 * inclusion proof with no database. Exit 0 when everything checks out, 1 when something does not.
 */
export async function runVerify(options: Options): Promise<number> {
  const config = loadIntegrityConfig();
  const publicKey = typeof options['public-key'] === 'string' ? options['public-key'] : undefined;
  const trusted = resolveTrustedKey(publicKey, config);
  if (options.proof !== undefined) return verifyProof(String(options.proof), trusted, !!options.json);
  if (options.bundle !== undefined) return verifyEvidence(String(options.bundle), trusted, !!options.json);
  if (!trusted) {
    throw new IntegrityError(
      'NO_TRUSTED_KEY',
      `no ledger public key to check tree heads against: pass --public-key, set IL_LEDGER_PUBLIC_KEY, or run where the key file is (${config.keyFile})`,
    );
  }
  const pool = await openDatabase();
  try {
    const report = await verifyLedger(pool, { trusted: trusted.key, onProgress: progress('verifying', 'leaves') });
    if (options.json) {
      out(JSON.stringify({ ...report, trustedKeySource: trusted.source }, null, 2));
      return report.ok ? 0 : 1;
    }
    const latest = report.treeHeads.latest;
    if (report.ok) {
      out(
        `ledger intact: ${report.leaves} events from ${report.agents} agents; signatures, chains and ${report.treeHeads.valid} signed tree head(s) check out` +
          (latest ? ` (latest covers ${latest.treeSize} leaves, signed ${latest.timestamp}; ${report.unsignedLeaves} newer leaves not yet covered)` : ' (no tree head signed yet)'),
      );
    } else {
      out(`LEDGER TAMPERED: first bad entry: ${describeProblem(report.problems[0]!)}`);
      const more = report.problems.slice(1, 11);
      if (more.length > 0) {
        out(`${report.problemCount - 1} more problem(s), in ledger order:`);
        for (const p of more) out(`  ${describeProblem(p)}`);
        if (report.problemCount - 1 > more.length) out(`  ... (--json lists up to ${report.problems.length})`);
      }
    }
    out(`tree heads checked against ledger key ${trusted.key.keyId}, trusted from ${trusted.source}`);
    return report.ok ? 0 : 1;
  } finally {
    await pool.end();
  }
}

function verifyProof(file: string, trusted: TrustedKey | null, json: boolean): number {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path.resolve(file));
  } catch (e) {
    throw new UsageError(`cannot read proof file ${file}: ${(e as Error).message}`);
  }
  const check = verifyProofFile(bytes, trusted);
  if (json) {
    out(JSON.stringify(check, null, 2));
  } else if (check.ok) {
    out(`proof OK: event ${check.eventId} is leaf ${check.leafIndex} of the ledger's tree of ${check.treeSize} leaves, signed ${check.timestamp} by ${check.keyId}`);
    out(`trusted key from ${check.trust}`);
  } else {
    out(`PROOF INVALID: ${check.problem}: ${check.detail}`);
    if (check.trust) out(`trusted key from ${check.trust}`);
  }
  return check.ok ? 0 : 1;
}

/** `intent-ledger proof <event-id>`: the event's inclusion proof against the latest signed tree head, as JSON. */
export async function runProof(eventId: string | undefined): Promise<number> {
  if (!eventId) throw new UsageError('proof needs an event id: `intent-ledger proof <event-id> > proof.json`');
  const pool = await openDatabase();
  try {
    out(JSON.stringify(await buildInclusionProof(pool, eventId), null, 2));
    return 0;
  } finally {
    await pool.end();
  }
}

/** DATABASE_URL when set (nothing is started then), else the project's own Postgres, started if need be. */
async function openDatabase(): Promise<Pool> {
  const fromEnv = process.env.DATABASE_URL?.trim();
  if (fromEnv) return createPool(fromEnv, 2);
  const { ensureServices } = await import('../devservers');
  return createPool((await ensureServices()).databaseUrl, 2);
}

function verifyEvidence(file: string, trusted: TrustedKey | null, json: boolean): number {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path.resolve(file));
  } catch (e) {
    throw new UsageError(`cannot read evidence bundle ${file}: ${(e as Error).message}`);
  }
  const check = verifyBundle(bytes, trusted);
  if (json) {
    out(JSON.stringify(check, null, 2));
  } else if (check.ok) {
    out(
      `bundle OK: ${check.subject.kind} ${check.subject.id}: ${check.events} events, signatures and chains check out; ${check.proven} proven in the ledger's tree of ` +
        `${check.treeSize} leaves signed ${check.timestamp}` + (check.notYetCovered.length ? `; ${check.notYetCovered.length} ledgered after that head (signature and chain only)` : ''),
    );
    out(`trusted key from ${check.trust}`);
  } else {
    out(`BUNDLE INVALID: ${check.problem}${check.eventId ? ` at event ${check.eventId}` : ''}: ${check.detail}`);
    if (check.trust) out(`trusted key from ${check.trust}`);
  }
  return check.ok ? 0 : 1;
}

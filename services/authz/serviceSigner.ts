import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import type { Producer } from 'kafkajs';
import { AgentClient, loadOrCreateAgentKey, type SentEvent } from '../sdk';
import { registerAgentKey } from '../registry';
import type { ToolCatalogue } from '../../schema/catalogue';
import { IntentLedgerError } from '../common/errors';

/**
 * A long-lived service that signs ledger events under its own identity (the authorisation service; later the
 * gateways): its key file (mode 0600) and, beside it, its chain position. The position is written ahead, the
 * moment an event is signed and before it is sent, so a restart continues after the last event signed: if the
 * process died before that event reached Kafka the ledger records a gap (visible), never a fork.
 */
export async function openServiceSigner(opts: {
  pool: Pool;
  producer: Producer;
  topic: string;
  agentId: string;
  keyFile: string;
  catalogue?: ToolCatalogue;
}): Promise<AgentClient> {
  lockSigner(opts.keyFile);
  const key = loadOrCreateAgentKey(opts.keyFile, opts.agentId);
  await registerAgentKey(opts.pool, { agentId: opts.agentId, publicKey: key.publicKey, displayName: 'intent-ledger service' });
  const stateFile = `${opts.keyFile}.chain`;
  const resume = readChainState(stateFile);
  return new AgentClient({
    key,
    producer: opts.producer,
    topic: opts.topic,
    catalogue: opts.catalogue,
    ...(resume ? { resume } : {}),
    onSigned: (e: SentEvent) => writeChainState(stateFile, { seq: e.envelope.seq, hash: e.hash }),
  });
}

function readChainState(file: string): { seq: number; hash: string } | null {
  if (!existsSync(file)) return null;
  const s = JSON.parse(readFileSync(file, 'utf8')) as { seq?: unknown; hash?: unknown };
  if (typeof s.seq !== 'number' || !Number.isSafeInteger(s.seq) || s.seq < 1 || typeof s.hash !== 'string' || !/^[0-9a-f]{64}$/.test(s.hash)) {
    throw new IntentLedgerError('SIGNER_STATE_INVALID', `chain state ${file} is damaged; restore it, or retire this identity and start a new one`);
  }
  return { seq: s.seq, hash: s.hash };
}

function writeChainState(file: string, s: { seq: number; hash: string }): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(s) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * One process signs with a key file at a time: two would both continue the chain from the same position, and the
 * second one's events would be refused as forks. The lock file holds the owner's pid; a lock whose process is gone
 * is taken over, and the lock is removed when this process exits.
 */
export function lockSigner(keyFile: string): void {
  const lock = `${keyFile}.lock`;
  mkdirSync(path.dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      process.once('exit', () => {
        try {
          if (readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
        } catch {
          // already gone
        }
      });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(lock, 'utf8'));
      if (owner === process.pid) return; // this process, opening its signer again
      if (Number.isSafeInteger(owner) && owner > 0 && alive(owner)) {
        throw new IntentLedgerError('SIGNER_IN_USE', `${keyFile} is in use by process ${owner}: one process signs with a key at a time (a second would fork its chain); stop it, or give this one its own key file and identity`);
      }
      unlinkSync(lock); // left by a process that is gone
    }
  }
  throw new IntentLedgerError('SIGNER_IN_USE', `cannot take the lock ${lock}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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

/** Small builders shared by this folder's unit tests: signed events, a throwaway ledger key, a proof file. */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Producer } from 'kafkajs';
import { AgentClient, createAgentKey, type SentEvent } from '../sdk';
import { InclusionProofBuilder, Frontier } from '../../schema/merkle';
import { encode as b64uEncode } from '../../schema/crypto/base64url';
import { loadOrCreateLedgerKey, type LedgerSigningKey } from './ledgerKey';
import { ledgerLeafHash, type LedgerLeaf } from './ledgerLeaf';
import { signTreeHead } from './treeHead';
import { PROOF_TYPE, type InclusionProofFile } from './proofFile';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function tempLedgerKey(): LedgerSigningKey {
  return loadOrCreateLedgerKey(path.join(mkdtempSync(path.join(tmpdir(), 'il-key-')), 'ledger-key.json'));
}

export function signedEvents(n: number, agentId = 'agent-1') {
  const key = createAgentKey(agentId, new Uint8Array(32).fill(3));
  const client = new AgentClient({ key, producer: {} as Producer, topic: 'unused' });
  const events: SentEvent[] = [];
  for (let i = 0; i < n; i++) events.push(client.sign('intent.closed', { intentId: `int_${i}`, outcome: 'completed' }));
  return { key, events };
}

export function leafOf(ev: SentEvent, leafIndex: number): LedgerLeaf {
  return { leafIndex, eventId: ev.envelope.eventId, eventHash: ev.hash, rawSha256: createHash('sha256').update(ev.bytes).digest('hex') };
}

/** What `intent-ledger proof` would print for leaf `index` of a ledger holding `events`, all under one head. */
export function proofFor(events: SentEvent[], index: number, ledgerKey: LedgerSigningKey, logId = 'il-log:test'): InclusionProofFile {
  const builder = new InclusionProofBuilder(index, events.length);
  const f = Frontier.empty();
  events.forEach((ev, i) => {
    const h = ledgerLeafHash(leafOf(ev, i));
    builder.add(i, h);
    f.append(h);
  });
  const head = signTreeHead({ logId, treeSize: events.length, rootHash: hex(f.root()), timestamp: '2026-01-02T03:04:05.678Z' }, ledgerKey);
  const leaf = leafOf(events[index]!, index);
  return {
    v: 1,
    type: PROOF_TYPE,
    leaf,
    leafHash: hex(ledgerLeafHash(leaf)),
    auditPath: builder.proof().map(hex),
    treeHead: { ...head, publicKey: b64uEncode(ledgerKey.publicKey) },
    event: { raw: b64uEncode(events[index]!.bytes) },
  };
}
